"""fashion_v5_flip with wider blocks, 7,811 parameters (declared before any run was scored).

The diff (``FASHION_WIDE`` in ``tinyconv/recipes/fashion.py``): channels
10-14-10-14-16-18 instead of 8-12-8-12-16-16, SE bottleneck 3 instead of 4.

Run: ``python examples/fashion_wide.py --data-dir ../shared/data --seeds 3``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.fashion import FASHION_WIDE

RECIPE = FASHION_WIDE

if __name__ == "__main__":
    sys.exit(main(RECIPE))
