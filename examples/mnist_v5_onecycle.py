"""V5 with a OneCycle schedule instead of StepLR, chosen before any run was scored.

Same model, same rotation; SGD with Nesterov momentum, the learning rate warms up
to 0.1 over the first 20 % of the steps and anneals to almost zero by the last
one, stepped per batch. Run: ``python examples/mnist_v5_onecycle.py --seeds 5``.
"""

import sys
from dataclasses import replace

import mnist_v5 as v5

from tinyconv.study import Recipe, main

TRAIN = replace(v5.TRAIN, scheduler="onecycle", lr=0.1, max_lr=0.1, pct_start=0.2, nesterov=True)

RECIPE: Recipe = replace(
    v5.RECIPE,
    name="mnist_v5_onecycle",
    description="V5 + OneCycle(max lr 0.1, 20 % warm-up, Nesterov) instead of StepLR",
    train=TRAIN,
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
