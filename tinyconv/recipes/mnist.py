"""The five MNIST versions of the reference write-up, and two variants of V5.

Each version is a short diff of the one before:

- V1: skeleton (3x3 convs widen, 1x1 transitions squeeze, SE on the last block, 3x3 conv
  head; no BatchNorm, SGD lr 0.01).
- V2: the last transition and the conv head give way to a GAP head.
- V3: BatchNorm in every conv block but the head (Conv -> ReLU -> BN -> Dropout).
- V4: StepLR(step 7, gamma 0.1).
- V5: rotation ±10° (fill 1/255, as the reference's 8-bit fill of 1) + StepLR(lr 0.1,
  step 9, gamma 0.18).

Variants of V5: ``mnist_v5_onecycle`` (OneCycle instead of StepLR, fixed before any run
was scored) and ``mnist_v5_no_se`` (the ablation without the SE block).
"""

from __future__ import annotations

from dataclasses import replace

from tinyconv.data import Rotation
from tinyconv.recipe import Recipe
from tinyconv.specs import ConvHeadSpec, ConvSpec, GAPHeadSpec, SESpec, TransitionSpec
from tinyconv.train import TrainConfig

DROPOUT = 0.05

MNIST_V1 = Recipe(
    name="mnist_v1",
    description="V1: basic skeleton (no BatchNorm, conv head, SGD lr 0.01)",
    dataset="mnist",
    specs=(
        ConvSpec(out_channels=8, norm=False, dropout=DROPOUT),  # 26x26, RF 3
        ConvSpec(out_channels=12, norm=False, dropout=DROPOUT),  # 24x24, RF 5
        TransitionSpec(out_channels=8),  # 12x12, RF 6
        ConvSpec(out_channels=12, norm=False, dropout=DROPOUT),  # 10x10, RF 10
        ConvSpec(out_channels=16, norm=False, dropout=DROPOUT),  # 8x8, RF 14
        ConvSpec(out_channels=16, norm=False, dropout=DROPOUT),  # 6x6, RF 18
        SESpec(rd_channels=4),  # channel attention on the last 3x3 block
        TransitionSpec(out_channels=10),  # 3x3, RF 20
        ConvHeadSpec(num_classes=10),  # 3x3 kernel over the 3x3 map -> 10 logits
    ),
    train=TrainConfig(epochs=15, batch_size=128, optimizer="sgd", lr=0.01, momentum=0.9),
)

MNIST_V2 = replace(
    MNIST_V1,
    name="mnist_v2",
    description="V2: last conv replaced by global average pooling",
    specs=(*MNIST_V1.specs[:-2], GAPHeadSpec(num_classes=10)),
)

MNIST_V3 = replace(
    MNIST_V2,
    name="mnist_v3",
    description="V3: BatchNorm in every conv block but the last",
    specs=tuple(
        replace(spec, norm=True) if isinstance(spec, ConvSpec) else spec for spec in MNIST_V2.specs
    ),
)

MNIST_V4 = replace(
    MNIST_V3,
    name="mnist_v4",
    description="V4: V3 + StepLR(step 7, gamma 0.1)",
    train=replace(MNIST_V3.train, scheduler="step", step_size=7, gamma=0.1),
)

MNIST_V5 = replace(
    MNIST_V3,
    name="mnist_v5",
    description="V5: V3 + rotation ±10° (fill 1/255) + StepLR(lr 0.1, step 9, gamma 0.18)",
    train=replace(MNIST_V3.train, lr=0.1, scheduler="step", step_size=9, gamma=0.18),
    augment=(Rotation(degrees=10.0, fill=1 / 255),),
)

MNIST_V5_ONECYCLE = replace(
    MNIST_V5,
    name="mnist_v5_onecycle",
    description="V5 + OneCycle(max lr 0.1, 20 % warm-up, Nesterov) instead of StepLR",
    train=replace(
        MNIST_V5.train, scheduler="onecycle", lr=0.1, max_lr=0.1, pct_start=0.2, nesterov=True
    ),
)

MNIST_V5_NO_SE = replace(
    MNIST_V5,
    name="mnist_v5_no_se",
    description="Ablation: V5 without its SE block",
    specs=tuple(spec for spec in MNIST_V5.specs if not isinstance(spec, SESpec)),
)

RECIPES = (
    MNIST_V1,
    MNIST_V2,
    MNIST_V3,
    MNIST_V4,
    MNIST_V5,
    MNIST_V5_ONECYCLE,
    MNIST_V5_NO_SE,
)
