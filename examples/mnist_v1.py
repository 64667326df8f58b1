"""V1, the basic skeleton: 3x3 convs widen, 1x1 transitions squeeze, a conv head classifies.

No BatchNorm and no learning-rate schedule yet. Squeeze-and-excitation gates the
16 channels of the last 3x3 block; the head is a plain 3x3 convolution over the
final 3x3 feature map. The recipe, as data, is ``MNIST_V1`` in
``tinyconv/recipes/mnist.py``:

    specs: conv 8, conv 12, transition 8, conv 12, conv 16, conv 16, SE (4), transition 10,
           3x3 conv head; dropout 0.05, no BatchNorm
    train: SGD lr 0.01, momentum 0.9, batch 128, 15 epochs

Run: ``python examples/mnist_v1.py --seeds 3``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.mnist import MNIST_V1

RECIPE = MNIST_V1

if __name__ == "__main__":
    sys.exit(main(RECIPE))
