"""V4: V3 trained with StepLR (step 7 epochs, gamma 0.1).

Run: ``python examples/mnist_v4.py --seeds 3``.
"""

import sys
from dataclasses import replace

import mnist_v3 as v3

from tinyconv.study import Recipe, main

TRAIN = replace(v3.RECIPE.train, scheduler="step", step_size=7, gamma=0.1)

RECIPE: Recipe = replace(
    v3.RECIPE,
    name="mnist_v4",
    description="V4: V3 + StepLR(step 7, gamma 0.1)",
    train=TRAIN,
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
