"""V4 = V3 trained with StepLR (step 7 epochs, gamma 0.1).

The diff (``MNIST_V4`` in ``tinyconv/recipes/mnist.py``):

    train=replace(MNIST_V3.train, scheduler="step", step_size=7, gamma=0.1)

Run: ``python examples/mnist_v4.py --seeds 3``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.mnist import MNIST_V4

RECIPE = MNIST_V4

if __name__ == "__main__":
    sys.exit(main(RECIPE))
