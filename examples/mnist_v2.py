"""V2 = V1 with its last convolution replaced by global average pooling (GAP).

The diff (``MNIST_V2`` in ``tinyconv/recipes/mnist.py``):

    specs=(*MNIST_V1.specs[:-2], GAPHeadSpec(num_classes=10))

Run: ``python examples/mnist_v2.py --seeds 3``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.mnist import MNIST_V2

RECIPE = MNIST_V2

if __name__ == "__main__":
    sys.exit(main(RECIPE))
