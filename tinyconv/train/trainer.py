"""``fit``: train one model with the training engine.

``fit`` checks nothing and loops over nothing itself: it hands the model and its loader to
the engine (:func:`~tinyconv.train.engine.run_training`) as a
:class:`~tinyconv.train.steps.SingleModelStep`. Per epoch the engine tells the loader which
epoch it is (``set_epoch``), trains on every batch (optional gradient clipping; OneCycle
stepped per batch), steps StepLR, evaluates, appends an ``EpochRecord``, runs the callbacks
and writes an atomic checkpoint. ``resume=True`` continues from that checkpoint with the same
weights, optimizer, scheduler, RNG states and history, so an interrupted run ends exactly
where an unbroken one would. A non-finite loss stops the run with ``NonFiniteLossError``
before the bad epoch can overwrite the last good checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from torch import Tensor, nn

from tinyconv.train.callbacks import Callback
from tinyconv.train.config import TrainConfig
from tinyconv.train.engine import run_training
from tinyconv.train.hash_dropout import use_dropout_masks
from tinyconv.train.history import History
from tinyconv.train.steps import BatchLoader, SingleModelStep


def fit(
    model: nn.Module,
    train_loader: BatchLoader,
    config: TrainConfig,
    *,
    eval_loader: Iterable[tuple[Tensor, Tensor]] | None = None,
    eval_name: str = "val",
    callbacks: Sequence[Callback] = (),
    checkpoint_path: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    label: str = "",
) -> History:
    """Train ``model`` in place on ``train_loader`` as ``config`` says.

    Args:
        model: A classifier mapping ``x`` to logits; moved to the resolved device.
        train_loader: Yields ``(x, y)`` batches and has ``len()`` (batches per epoch); an
            optional ``set_epoch(epoch)`` is called with the 1-based epoch before each epoch.
        config: The run's settings.
        eval_loader: Scored after every epoch, if given.
        eval_name: Name of the evaluated set (``"val"``, ``"test"``); prefixes its metrics.
        callbacks: The loop's event handlers (a loss term, step end, epoch end; see
            :class:`~tinyconv.train.Callback`); any ``on_epoch_end`` returning ``True``
            stops the run.
        checkpoint_path: Written atomically after every epoch, if given.
        resume: Continue from ``checkpoint_path`` if that file exists.
        overwrite: Start a new run even though ``checkpoint_path`` exists (its old content is
            replaced after the first epoch). Without it, or ``resume``, an existing
            checkpoint is an error, so no finished run is lost by accident.
        label: Prefix of the progress bar and epoch lines, e.g. ``"seed 2 of 5"``.

    Returns:
        The history of all finished epochs (including those before a resume).

    Raises:
        ValueError: On an empty or length-less loader, a loader batch size that differs from
            ``config.batch_size``, ``resume`` without a path, or a checkpoint whose config
            does not match.
        CheckpointExistsError: If ``checkpoint_path`` exists and neither ``resume`` nor
            ``overwrite`` is set.
        NonFiniteLossError: If a training loss is NaN or infinite.

    Example:
        >>> import torch
        >>> x, y = torch.randn(32, 4), torch.arange(32) % 2
        >>> loader = [(x[:16], y[:16]), (x[16:], y[16:])]
        >>> config = TrainConfig(epochs=2, device="cpu", progress=False)
        >>> history = fit(nn.Linear(4, 2), loader, config, eval_loader=loader)
        >>> [record.epoch for record in history], sorted(history.final.metrics())
        ([1, 2], ['train_acc', 'train_loss', 'val_acc', 'val_loss'])
    """
    with use_dropout_masks(model, config.dropout_masks):
        (history,) = run_training(
            SingleModelStep(model, train_loader),
            config,
            eval_loader=eval_loader,
            eval_name=eval_name,
            callbacks=callbacks,
            checkpoint_path=checkpoint_path,
            resume=resume,
            overwrite=overwrite,
            label=label,
        )
    return history
