"""V1, the basic skeleton: 3x3 convs widen, 1x1 transitions squeeze, a conv head classifies.

No BatchNorm and no learning-rate schedule yet. Squeeze-and-excitation gates the
16 channels of the last 3x3 block; the head is a plain 3x3 convolution over the
final 3x3 feature map. Run: ``python examples/mnist_v1.py --seeds 3``.
"""

import sys

from tinyconv import ConvHeadSpec, ConvSpec, SESpec, TransitionSpec
from tinyconv.study import Recipe, main
from tinyconv.train import TrainConfig

DROPOUT = 0.05

SPECS = (
    ConvSpec(out_channels=8, norm=False, dropout=DROPOUT),  # 26x26, RF 3
    ConvSpec(out_channels=12, norm=False, dropout=DROPOUT),  # 24x24, RF 5
    TransitionSpec(out_channels=8),  # 12x12, RF 6
    ConvSpec(out_channels=12, norm=False, dropout=DROPOUT),  # 10x10, RF 10
    ConvSpec(out_channels=16, norm=False, dropout=DROPOUT),  # 8x8, RF 14
    ConvSpec(out_channels=16, norm=False, dropout=DROPOUT),  # 6x6, RF 18
    SESpec(rd_channels=4),  # channel attention on the last 3x3 block
    TransitionSpec(out_channels=10),  # 3x3, RF 20
    ConvHeadSpec(num_classes=10),  # 3x3 kernel over the 3x3 map -> 10 logits
)

TRAIN = TrainConfig(epochs=15, batch_size=128, optimizer="sgd", lr=0.01, momentum=0.9)

RECIPE = Recipe(
    name="mnist_v1",
    description="V1: basic skeleton (no BatchNorm, conv head, SGD lr 0.01)",
    specs=SPECS,
    train=TRAIN,
)

if __name__ == "__main__":
    sys.exit(main(RECIPE))
