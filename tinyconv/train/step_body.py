"""One training step, written once for the eager loop and for the captured CUDA graph.

:func:`train_step` is what every step of the engine (:func:`~tinyconv.train.engine.
run_training`) does between zeroing the gradients and stepping the scheduler: forward,
each trained model's loss, the callbacks' loss terms, the non-finite watch, backward,
gradient clipping, the optimizer step and the epoch's running sums. It keeps everything
on the device (:class:`EpochSums`, updated in place; the step number is a device counter),
so the same function runs eagerly or is recorded once as a CUDA graph and replayed
(:class:`~tinyconv.train.captured.CapturedStep`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from tinyconv.train.callbacks import Batch, Callback
from tinyconv.train.compiled import begin_step
from tinyconv.train.config import TrainConfig
from tinyconv.train.device import sum_dtype
from tinyconv.train.steps import StepStrategy

__all__ = ["EpochSums", "train_step"]


@dataclass(frozen=True)
class EpochSums:
    r"""An epoch's running sums per trained model, on the device, updated in place.

    Attributes:
        loss: Sum of each model's loss times the batch size.
        correct: Each model's correct predictions.
        first_bad: The step of each model's first non-finite loss (0: none yet).
        bad_loss: That loss.
        step: Steps taken this epoch (a device counter: a captured step cannot read a
            Python one).

    Shape:
        - loss, correct, first_bad, bad_loss: :math:`(\text{members},)`; step: :math:`()`.
    """

    loss: Tensor
    correct: Tensor
    first_bad: Tensor
    bad_loss: Tensor
    step: Tensor

    @classmethod
    def on(cls, members: int, device: torch.device) -> EpochSums:
        """Zeroed sums for ``members`` models on ``device`` (loss sums: :func:`sum_dtype`).

        Example:
            >>> EpochSums.on(2, torch.device("cpu")).loss
            tensor([0., 0.], dtype=torch.float64)
        """
        return cls(
            loss=torch.zeros(members, dtype=sum_dtype(device), device=device),
            correct=torch.zeros(members, dtype=torch.long, device=device),
            first_bad=torch.zeros(members, dtype=torch.long, device=device),
            bad_loss=torch.zeros(members, dtype=torch.float32, device=device),
            step=torch.zeros((), dtype=torch.long, device=device),
        )

    def reset(self) -> None:
        """Zero every sum in place (a captured step keeps writing to the same memory)."""
        for tensor in (self.loss, self.correct, self.first_bad, self.bad_loss, self.step):
            tensor.zero_()


def train_step(
    forward: nn.Module,
    strategy: StepStrategy,
    optimizer: Optimizer,
    config: TrainConfig,
    sums: EpochSums,
    x: Tensor,
    y: Tensor,
    *,
    epoch: int,
    step: int,
    callbacks: Sequence[Callback] = (),
    check_loss: Callable[[Tensor], None] | None = None,
) -> None:
    """Take one training step on ``(x, y)``; the gradients must be zeroed before.

    Args:
        forward: The module (or its compiled wrapper) in training mode.
        strategy: One model or stacked seeds (:mod:`tinyconv.train.steps`).
        optimizer: Its optimizer.
        config: Label smoothing, gradient clipping, compile mode.
        sums: The epoch's sums, updated in place.
        x: The input batch, on the device.
        y: Its labels.
        epoch: The epoch (for callbacks and messages only).
        step: The step in the epoch (for callbacks and messages only).
        callbacks: Events of the loop (eager steps only).
        check_loss: Called with the detached losses before backward (the eager loop's
            periodic look at the non-finite watch), or ``None``.
    """
    begin_step(config)
    logits = forward(x)
    losses = strategy.losses(logits, y, config.label_smoothing, epoch, step)
    loss = losses.sum()  # member k's weights see only member k's loss
    batch = None
    if callbacks:
        batch = Batch(epoch, step, x, y, logits, strategy.model_for_callbacks, config)
        for callback in callbacks:
            term = callback.loss_term(batch)
            if term is not None:
                loss = loss + term
                losses = losses + term.detach()
    detached = losses.detach()
    sums.step.add_(1)
    newly_bad = (sums.first_bad == 0) & ~torch.isfinite(detached)
    sums.first_bad.copy_(torch.where(newly_bad, sums.step, sums.first_bad))
    sums.bad_loss.copy_(torch.where(newly_bad, detached.float(), sums.bad_loss))
    if check_loss is not None:
        check_loss(detached)
    loss.backward()
    if config.grad_clip is not None:
        strategy.clip_gradients(config.grad_clip)
    optimizer.step()
    sums.loss.add_(detached.to(sums.loss.dtype) * y.shape[0])
    sums.correct.add_(strategy.hits(logits.detach(), y))
    if batch is not None:
        for callback in callbacks:
            callback.on_step_end(batch)
