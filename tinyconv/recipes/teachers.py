"""Teachers for knowledge distillation: the V5 blocks at three times the width.

``mnist_teacher`` keeps V5's layout, order, dropout, rotation and StepLR training and widens
every block (16-32-16-32-48-48 channels instead of 8-12-8-12-16-16, an SE bottleneck of 12):
46,476 parameters, trained by the same pipeline as its students (``tinyconv study
mnist_teacher``), so teacher and student see identically augmented and normalised images.
``fashion_teacher`` is the same on FashionMNIST. A trained teacher's model file is what a
:class:`~tinyconv.compress.DistillationSpec` names.
"""

from __future__ import annotations

from dataclasses import replace

from tinyconv.recipes.fashion import FASHION_V5
from tinyconv.recipes.mnist import DROPOUT, MNIST_V5
from tinyconv.specs import ConvSpec, GAPHeadSpec, SESpec, TransitionSpec

TEACHER_SPECS = (
    ConvSpec(out_channels=16, dropout=DROPOUT),
    ConvSpec(out_channels=32, dropout=DROPOUT),
    TransitionSpec(out_channels=16),
    ConvSpec(out_channels=32, dropout=DROPOUT),
    ConvSpec(out_channels=48, dropout=DROPOUT),
    ConvSpec(out_channels=48, dropout=DROPOUT),
    SESpec(rd_channels=12),
    GAPHeadSpec(num_classes=10),
)
"""V5's blocks, each about three times as wide."""

MNIST_TEACHER = replace(
    MNIST_V5,
    name="mnist_teacher",
    description="Teacher: V5's blocks and training at 3x width (46,476 params)",
    specs=TEACHER_SPECS,
    max_params=50_000,
)

FASHION_TEACHER = replace(
    FASHION_V5,
    name="fashion_teacher",
    description="Teacher: fashion_v5's blocks and training at 3x width (46,476 params)",
    specs=TEACHER_SPECS,
    max_params=50_000,
)

RECIPES = (MNIST_TEACHER, FASHION_TEACHER)
