"""V5 with a OneCycle schedule instead of StepLR, chosen before any run was scored.

Same model, same rotation; SGD with Nesterov momentum, the learning rate warms up
to 0.1 over the first 20 % of the steps and anneals to almost zero by the last
one, stepped per batch. The diff (``MNIST_V5_ONECYCLE`` in ``tinyconv/recipes/mnist.py``):

    train=replace(MNIST_V5.train, scheduler="onecycle", lr=0.1, max_lr=0.1,
                  pct_start=0.2, nesterov=True)

Run: ``python examples/mnist_v5_onecycle.py --seeds 5``.
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.mnist import MNIST_V5_ONECYCLE

RECIPE = MNIST_V5_ONECYCLE

if __name__ == "__main__":
    sys.exit(main(RECIPE))
