"""V3 = V2 with BatchNorm in every conv block but the last (the 1x1 head map).

Blocks run Conv -> ReLU -> BatchNorm -> Dropout, as in the reference write-up. The diff
(``MNIST_V3`` in ``tinyconv/recipes/mnist.py``):

    specs=tuple(replace(spec, norm=True) if isinstance(spec, ConvSpec) else spec ...)

Run: ``python examples/mnist_v3.py --seeds 3``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.mnist import MNIST_V3

RECIPE = MNIST_V3

if __name__ == "__main__":
    sys.exit(main(RECIPE))
