"""fashion_v5 plus random horizontal flips (declared before any run was scored).

The diff (``FASHION_V5_FLIP`` in ``tinyconv/recipes/fashion.py``):

    augment=(*FASHION_V5.augment, HorizontalFlip(p=0.5))

Run: ``python examples/fashion_v5_flip.py --data-dir ../shared/data --seeds 3``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.fashion import FASHION_V5_FLIP

RECIPE = FASHION_V5_FLIP

if __name__ == "__main__":
    sys.exit(main(RECIPE))
