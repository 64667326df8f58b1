"""V3: V2 with BatchNorm in every conv block but the last (the 1x1 head map).

Blocks run Conv -> ReLU -> BatchNorm -> Dropout, as in the reference write-up.
Run: ``python examples/mnist_v3.py --seeds 3``.
"""

import sys
from dataclasses import replace

import mnist_v2 as v2

from tinyconv import ConvSpec
from tinyconv.study import Recipe, main

SPECS = tuple(replace(spec, norm=True) if isinstance(spec, ConvSpec) else spec for spec in v2.SPECS)

RECIPE: Recipe = replace(
    v2.RECIPE,
    name="mnist_v3",
    description="V3: BatchNorm in every conv block but the last",
    specs=SPECS,
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
