"""The training engine's events: a ``Callback`` base and ``EarlyStopping``.

The loop (:mod:`tinyconv.train.engine`) calls a callback at three points:

- ``loss_term(batch)`` after the forward pass of every training step: a tensor it returns
  is added to the loss before ``backward`` (a distillation term, a penalty);
- ``on_step_end(step)`` after every optimizer step (the weights are updated);
- ``on_epoch_end(state)`` after each epoch's record is appended to the history and before
  the checkpoint is written; returning ``True`` asks the run to stop after that checkpoint.

``EarlyStopping`` decides from the history alone, so it needs no state of its own and
behaves the same after a resume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor, nn
from torch.optim import Optimizer

from tinyconv._checks import check_int
from tinyconv.train.config import TrainConfig
from tinyconv.train.history import EpochRecord, History, is_loss


@dataclass(frozen=True)
class TrainState:
    """What a callback sees at the end of an epoch.

    Attributes:
        epoch: The 1-based number of the epoch that just finished.
        model: The model being trained (uncompiled).
        optimizer: Its optimizer.
        config: The run's config.
        history: All records so far, the current epoch's last.

    Example:
        >>> from tinyconv.train.optim import build_optimizer
        >>> model = nn.Linear(2, 2)
        >>> history = History([EpochRecord(1, 0.7, 0.5, 0.6, 0.55, "val", 0.01, 1.0, 100.0)])
        >>> config = TrainConfig()
        >>> state = TrainState(1, model, build_optimizer(model, config), config, history)
        >>> state.record.metrics()["val_acc"]
        0.55
    """

    epoch: int
    model: nn.Module
    optimizer: Optimizer
    config: TrainConfig
    history: History

    @property
    def record(self) -> EpochRecord:
        """The record of the epoch that just finished."""
        return self.history.final


@dataclass(frozen=True)
class Batch:
    """One training step as a callback sees it.

    Attributes:
        epoch: The 1-based epoch.
        step: The 1-based step within the epoch.
        x: The step's (augmented, normalised) images, on the training device.
        y: Their labels.
        logits: The model's outputs for ``x`` (with gradients).
        model: The model being trained (uncompiled).
        config: The run's config.

    Example:
        >>> import torch
        >>> batch = Batch(1, 1, torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(2, 2),
        ...               nn.Linear(3, 2), TrainConfig())
        >>> batch.x.shape[0] == batch.y.shape[0]
        True
    """

    epoch: int
    step: int
    x: Tensor
    y: Tensor
    logits: Tensor
    model: nn.Module
    config: TrainConfig


class Callback:
    """Base class for the hooks of the training loop; every method does nothing by default.

    Subclass it and override what you need: :meth:`loss_term` adds to the loss,
    :meth:`on_step_end` sees every step, :meth:`on_epoch_end` returns ``True`` to stop.

    Example:
        >>> import torch
        >>> from tinyconv.train import fit
        >>> class StopAfter(Callback):
        ...     def __init__(self, epochs: int) -> None:
        ...         self.epochs = epochs
        ...     def on_epoch_end(self, state: TrainState) -> bool:
        ...         return state.epoch >= self.epochs
        >>> batch = (torch.randn(8, 4), torch.arange(8) % 2)
        >>> config = TrainConfig(epochs=5, batch_size=8, device="cpu", progress=False)
        >>> len(fit(nn.Linear(4, 2), [batch], config, callbacks=[StopAfter(2)]))
        2
    """

    def loss_term(self, batch: Batch) -> Tensor | None:
        """Return a term to add to the step's training loss, or ``None`` for none.

        Args:
            batch: The step's inputs, labels and logits.

        Returns:
            A scalar tensor (it is back-propagated with the loss), or ``None``.
        """
        return None

    def on_step_end(self, batch: Batch) -> None:
        """React to a finished training step (the optimizer has updated the weights).

        Args:
            batch: The step's inputs, labels and logits.
        """

    def on_epoch_end(self, state: TrainState) -> bool | None:
        """React to a finished epoch.

        Args:
            state: The run's state after the epoch.

        Returns:
            ``True`` to stop training after this epoch; ``None`` or ``False`` to go on.
        """
        return None


class EarlyStopping(Callback):
    """Stop when a validation metric has not improved for ``patience`` epochs.

    An improvement is a loss lower than the best so far by more than ``min_delta`` (or an
    accuracy higher by more than ``min_delta``). Metrics of a set named ``"test"`` are refused:
    choosing when to stop by test data leaks it into training and biases the reported score.

    Args:
        monitor: A metric name ending in ``_loss`` or ``_acc`` such as ``"val_loss"``.
        patience: Epochs without improvement tolerated before stopping.
        min_delta: Smallest change that counts as an improvement.

    Raises:
        ValueError: If ``monitor`` names a test-set metric or no loss/accuracy, or
            ``patience`` is below 1, or ``min_delta`` is negative.

    Example:
        >>> stopper = EarlyStopping("val_acc", patience=2)
        >>> stopper.should_stop([0.5, 0.7, 0.69, 0.7])
        True
        >>> EarlyStopping("test_loss")
        Traceback (most recent call last):
        ...
        ValueError: EarlyStopping refuses to monitor 'test_loss': never early-stop on the test set (it biases the test score); hold out a validation set and pass it as fit(..., eval_loader=val_loader, eval_name='val')
    """  # noqa: E501

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0):
        if not isinstance(monitor, str) or not monitor.endswith(("_loss", "_acc")):
            raise ValueError(
                f"EarlyStopping.monitor must be a metric name ending in '_loss' or '_acc' "
                f"such as 'val_loss' or 'val_acc', got {monitor!r}"
            )
        if monitor.startswith("test_"):
            raise ValueError(
                f"EarlyStopping refuses to monitor {monitor!r}: never early-stop on the test set "
                "(it biases the test score); hold out a validation set and pass it as "
                "fit(..., eval_loader=val_loader, eval_name='val')"
            )
        check_int("EarlyStopping.patience", patience, 1)
        if not math.isfinite(min_delta) or min_delta < 0:
            raise ValueError(f"EarlyStopping.min_delta must be finite and >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.patience = patience
        self.min_delta = float(min_delta)

    def should_stop(self, values: list[float]) -> bool:
        """Return True if the last ``patience`` values brought no improvement on the best.

        Args:
            values: The monitored metric, one value per epoch, oldest first.

        Returns:
            Whether to stop.
        """
        if not values:
            return False
        best, epochs_since_best = values[0], 0
        for value in values[1:]:
            if is_loss(self.monitor):
                improved = value < best - self.min_delta
            else:
                improved = value > best + self.min_delta
            if improved:
                best, epochs_since_best = value, 0
            else:
                epochs_since_best += 1
        return epochs_since_best >= self.patience

    def on_epoch_end(self, state: TrainState) -> bool:
        """Stop if ``monitor`` has not improved for ``patience`` epochs.

        Raises:
            ValueError: If the latest record has no metric named ``monitor``.
        """
        available = state.record.metrics()
        if self.monitor not in available:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r} but epoch {state.epoch} recorded only "
                f"{sorted(available)} (evaluated set: {state.record.eval_name!r}); pass "
                f"eval_loader with a matching eval_name"
            )
        values = [m[self.monitor] for r in state.history if self.monitor in (m := r.metrics())]
        return self.should_stop(values)
