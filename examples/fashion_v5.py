"""MNIST V5 on FashionMNIST: the same architecture, rotation and StepLR; only the data changes.

The diff (``FASHION_V5`` in ``tinyconv/recipes/fashion.py``):

    replace(MNIST_V5, name="fashion_v5", dataset="fashion_mnist")

Run: ``python examples/fashion_v5.py --data-dir ../shared/data --seeds 3``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.fashion import FASHION_V5

RECIPE = FASHION_V5

if __name__ == "__main__":
    sys.exit(main(RECIPE))
