"""Ablation: V5 with its squeeze-and-excitation block removed. Does SE earn its parameters?

Run: ``python examples/mnist_v5_no_se.py --seeds 3``.
"""

import sys
from dataclasses import replace

import mnist_v5 as v5

from tinyconv import SESpec
from tinyconv.study import Recipe, main

RECIPE: Recipe = replace(
    v5.RECIPE,
    name="mnist_v5_no_se",
    description="Ablation: V5 without its SE block",
    specs=tuple(spec for spec in v5.RECIPE.specs if not isinstance(spec, SESpec)),
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
