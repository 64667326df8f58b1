"""Ablation: V5 with its squeeze-and-excitation block removed. Does SE earn its parameters?

The diff (``MNIST_V5_NO_SE`` in ``tinyconv/recipes/mnist.py``):

    specs=tuple(spec for spec in MNIST_V5.specs if not isinstance(spec, SESpec))

Run: ``python examples/mnist_v5_no_se.py --seeds 3``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.mnist import MNIST_V5_NO_SE

RECIPE = MNIST_V5_NO_SE

if __name__ == "__main__":
    sys.exit(main(RECIPE))
