"""FashionMNIST: the V5 recipe on clothes, and two variants declared before any run was scored.

- ``fashion_v5``: MNIST V5's architecture and training, unchanged but for the dataset.
- ``fashion_v5_flip``: plus random horizontal flips (p = 0.5); clothes, unlike digits,
  keep their class in a mirror, and flips are a known help on this dataset.
- ``fashion_wide``: the flip variant with wider blocks (10-14-10-14-16-18 channels
  instead of 8-12-8-12-16-16): 7,811 parameters, under 8,000.

The anchor for the table: FashionMNIST's maintainers list a 2-conv CNN with under
100k parameters at 92.5 % (the dataset's ``target_accuracy`` here).
"""

from __future__ import annotations

from dataclasses import replace

from tinyconv.data import HorizontalFlip
from tinyconv.recipes.mnist import DROPOUT, MNIST_V5
from tinyconv.specs import ConvSpec, GAPHeadSpec, SESpec, TransitionSpec

FASHION_V5 = replace(
    MNIST_V5,
    name="fashion_v5",
    description="MNIST V5 (architecture, rotation, StepLR) on FashionMNIST",
    dataset="fashion_mnist",
)

FASHION_V5_FLIP = replace(
    FASHION_V5,
    name="fashion_v5_flip",
    description="fashion_v5 + random horizontal flips (p 0.5)",
    augment=(*FASHION_V5.augment, HorizontalFlip(p=0.5)),
)

FASHION_WIDE = replace(
    FASHION_V5_FLIP,
    name="fashion_wide",
    description="fashion_v5_flip with wider blocks (7,811 params, < 8,000)",
    specs=(
        ConvSpec(out_channels=10, dropout=DROPOUT),
        ConvSpec(out_channels=14, dropout=DROPOUT),
        TransitionSpec(out_channels=10),
        ConvSpec(out_channels=14, dropout=DROPOUT),
        ConvSpec(out_channels=16, dropout=DROPOUT),
        ConvSpec(out_channels=18, dropout=DROPOUT),
        SESpec(rd_channels=3),
        GAPHeadSpec(num_classes=10),
    ),
)

RECIPES = (FASHION_V5, FASHION_V5_FLIP, FASHION_WIDE)
