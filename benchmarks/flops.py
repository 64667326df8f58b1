"""Training FLOPs per image, measured by ``torch.utils.flop_counter.FlopCounterMode``.

Convention (torch's): one multiply-accumulate is two FLOPs; only convolutions and
matrix products are counted (in the forward and the backward pass), not BatchNorm,
activations, pooling, the loss or the optimizer step. The backward pass of the first
convolution computes only its weight gradient (the input needs none), so a training
step costs a little less than the textbook ``3 x forward``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from tinyconv.summary import summary


@dataclass(frozen=True)
class FlopCount:
    """FLOPs of one image.

    Args:
        forward: Forward-pass FLOPs per image.
        training: Forward + backward FLOPs per image (one training step).
        macs: Forward multiply-accumulates per image from ``tinyconv.summary``.
    """

    forward: float
    training: float
    macs: int

    @property
    def textbook_training(self) -> float:
        """The rule-of-thumb estimate ``3 x forward MACs x 2 FLOPs``."""
        return 6.0 * self.macs


def count_training_flops(
    build_model: Callable[[], nn.Module], batch_size: int, image_shape: tuple[int, ...]
) -> FlopCount:
    """Count one training step's FLOPs on the CPU and divide by the batch size.

    Args:
        build_model: Returns a fresh model (it is put in training mode and then discarded).
        batch_size: Images in the counted step.
        image_shape: ``(C, H, W)`` of one image.

    Returns:
        Forward and training FLOPs per image and the forward MACs.
    """
    model = build_model().cpu().train()
    images = torch.randn(batch_size, *image_shape)
    labels = torch.randint(0, 10, (batch_size,))
    with FlopCounterMode(display=False) as forward_counter:
        logits = model(images)
    with FlopCounterMode(display=False) as step_counter:
        F.cross_entropy(model(images), labels).backward()
    del logits
    return FlopCount(
        forward=forward_counter.get_total_flops() / batch_size,
        training=step_counter.get_total_flops() / batch_size,
        macs=summary(model, image_shape).total_macs,
    )
