"""V5, the flagship: V3 + random rotation ±10° + StepLR(lr 0.1, step 9, gamma 0.18).

The reference applies ``RandomRotation((-10, 10), fill=(1,))`` to 8-bit images, so
its fill is pixel value 1 of 255 (an almost black background, not white); here
images are on the [0, 1] scale, so the same fill is ``1 / 255``.

Run: ``python examples/mnist_v5.py --data-dir ../shared/data --seeds 5``.
"""

import sys
from dataclasses import replace

import mnist_v3 as v3

from tinyconv.study import Recipe, main

TRAIN = replace(v3.RECIPE.train, lr=0.1, scheduler="step", step_size=9, gamma=0.18)

RECIPE: Recipe = replace(
    v3.RECIPE,
    name="mnist_v5",
    description="V5: V3 + rotation ±10° (fill 1/255) + StepLR(lr 0.1, step 9, gamma 0.18)",
    train=TRAIN,
    rotation_degrees=10.0,
    rotation_fill=1 / 255,
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
