"""V5, the flagship = V3 + random rotation ±10° + StepLR(lr 0.1, step 9, gamma 0.18).

The reference applies ``RandomRotation((-10, 10), fill=(1,))`` to 8-bit images, so
its fill is pixel value 1 of 255; here images are on the [0, 1] scale, so the same
fill is ``1 / 255``. The diff (``MNIST_V5`` in ``tinyconv/recipes/mnist.py``):

    train=replace(MNIST_V3.train, lr=0.1, scheduler="step", step_size=9, gamma=0.18),
    augment=(Rotation(degrees=10.0, fill=1 / 255),)

Run: ``python examples/mnist_v5.py --data-dir ../shared/data --seeds 5``. Each seed is
checkpointed after every epoch: kill the run and rerun the same command, and it
continues where it stopped ("seed 0: resuming after epoch 6").
"""

import sys

from tinyconv.cli.commands.study import main_for as main
from tinyconv.recipes.mnist import MNIST_V5

RECIPE = MNIST_V5

if __name__ == "__main__":
    sys.exit(main(RECIPE))
