"""V2: V1 with its last convolution replaced by global average pooling (GAP).

The final transition and the 3x3 conv head give way to a GAP head (pool, then a
1x1 map from 16 channels to 10 logits). Run: ``python examples/mnist_v2.py --seeds 3``.
"""

import sys
from dataclasses import replace

import mnist_v1 as v1

from tinyconv import GAPHeadSpec
from tinyconv.study import Recipe, main

SPECS = (*v1.SPECS[:-2], GAPHeadSpec(num_classes=10))

RECIPE: Recipe = replace(
    v1.RECIPE,
    name="mnist_v2",
    description="V2: last conv replaced by global average pooling",
    specs=SPECS,
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
