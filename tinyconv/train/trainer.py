"""``fit``: the whole training loop, small enough to read in one sitting.

Per epoch: tell the loader which epoch it is (``set_epoch``), train on every batch (optional
gradient clipping; OneCycle stepped per batch), step StepLR, evaluate, append an
``EpochRecord``, run the callbacks and write an atomic checkpoint. ``resume=True`` continues
from that checkpoint with the same weights, optimizer, scheduler, RNG states and history, so
an interrupted run ends exactly where an unbroken one would. A non-finite loss stops the run
with ``NonFiniteLossError`` before the bad epoch can overwrite the last good checkpoint.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from tinyconv.train.callbacks import Callback, TrainState
from tinyconv.train.checkpoint import check_resumable, load_checkpoint, save_checkpoint
from tinyconv.train.config import TrainConfig
from tinyconv.train.device import resolve_device
from tinyconv.train.evaluate import evaluate
from tinyconv.train.history import EpochRecord, History
from tinyconv.train.optim import build_optimizer, build_scheduler
from tinyconv.train.seed import rng_state, seed_everything, set_rng_state

logger = logging.getLogger(__name__)


class BatchLoader(Protocol):
    """What ``fit`` needs of a training loader: ``(x, y)`` batches and a length.

    ``tinyconv.data.TensorLoader`` and ``torch.utils.data.DataLoader`` both qualify. If the
    loader also has ``set_epoch(epoch)``, ``fit`` calls it before each epoch, so a loader that
    derives its order from the epoch replays the same batches after a resume.

    Example:
        >>> class OneBatch:  # any object with __iter__ and __len__ will do
        ...     batch_size = 4
        ...     def __iter__(self):
        ...         return iter([(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))])
        ...     def __len__(self):
        ...         return 1
        >>> config = TrainConfig(epochs=2, batch_size=4, device="cpu", progress=False)
        >>> len(fit(nn.Linear(3, 2), OneBatch(), config))
        2
    """

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]: ...

    def __len__(self) -> int: ...


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; the last good checkpoint was kept.

    Args:
        message: What happened, where, what was kept and what to try.
        epoch: 1-based epoch of the bad step.
        step: 1-based step within that epoch.
        loss: The non-finite loss value.

    Attributes:
        epoch: 1-based epoch of the bad step.
        step: 1-based step within that epoch.
        loss: The non-finite loss value.

    Example:
        >>> x, y = torch.full((4, 2), float("nan")), torch.tensor([0, 1, 0, 1])
        >>> config = TrainConfig(epochs=1, batch_size=4, device="cpu", progress=False)
        >>> try:
        ...     fit(nn.Linear(2, 2), [(x, y)], config)
        ... except NonFiniteLossError as error:
        ...     print(error.epoch, error.step, error.loss)
        1 1 nan
    """

    def __init__(self, message: str, *, epoch: int, step: int, loss: float) -> None:
        super().__init__(message)
        self.epoch, self.step, self.loss = epoch, step, loss


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
) -> History:
    """Train ``model`` in place on ``train_loader`` as ``config`` says.

    Args:
        model: A classifier mapping ``x`` to logits; moved to the resolved device.
        train_loader: Yields ``(x, y)`` batches and has ``len()`` (batches per epoch); an
            optional ``set_epoch(epoch)`` is called with the 1-based epoch before each epoch.
        config: The run's settings.
        eval_loader: Scored after every epoch, if given.
        eval_name: Name of the evaluated set (``"val"``, ``"test"``); prefixes its metrics.
        callbacks: Run after every epoch; any returning ``True`` stops the run.
        checkpoint_path: Written atomically after every epoch, if given.
        resume: Continue from ``checkpoint_path`` if that file exists.

    Returns:
        The history of all finished epochs (including those before a resume).

    Raises:
        ValueError: On an empty or length-less loader, a loader batch size that differs from
            ``config.batch_size``, ``resume`` without a path, or a checkpoint whose config
            does not match.
        NonFiniteLossError: If a training loss is NaN or infinite.

    Example:
        >>> x, y = torch.randn(32, 4), torch.arange(32) % 2
        >>> loader = [(x[:16], y[:16]), (x[16:], y[16:])]
        >>> config = TrainConfig(epochs=2, device="cpu", progress=False)
        >>> history = fit(nn.Linear(4, 2), loader, config, eval_loader=loader)
        >>> [record.epoch for record in history], sorted(history.final.metrics())
        ([1, 2], ['train_acc', 'train_loss', 'val_acc', 'val_loss'])
    """
    steps = _steps_per_epoch(train_loader, config)
    if resume and checkpoint_path is None:
        raise ValueError("resume=True needs checkpoint_path (the file to continue from)")
    if eval_loader is not None and (not isinstance(eval_name, str) or not eval_name):
        raise ValueError(f"eval_name must be a non-empty string such as 'val', got {eval_name!r}")
    device = resolve_device(config.device)
    seed_everything(config.seed)
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(model, config)
    scheduler, interval = build_scheduler(optimizer, config, steps)
    history, done = History(), 0
    if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
        checkpoint = load_checkpoint(checkpoint_path, map_location=device)
        check_resumable(checkpoint.config, config)
        _check_schedule_length(checkpoint.scheduler_state, config, steps)
        model.load_state_dict(checkpoint.model_state)
        optimizer.load_state_dict(checkpoint.optimizer_state)
        if scheduler is not None and checkpoint.scheduler_state is not None:
            scheduler.load_state_dict(checkpoint.scheduler_state)
        set_rng_state(checkpoint.rng)
        history, done = checkpoint.history, checkpoint.epoch
        if checkpoint.stopped:
            logger.info("not resuming: a callback stopped this run after epoch %d", done)
            return history
    saved_epoch = done or None
    forward = torch.compile(model) if config.compile else model
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    show_progress = sys.stderr.isatty() if config.progress is None else config.progress

    for epoch in range(done + 1, config.epochs + 1):
        started = time.perf_counter()
        if hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(epoch)
        lr = optimizer.param_groups[0]["lr"]
        desc = f"epoch {epoch}/{config.epochs}"
        batches = tqdm(train_loader, total=steps, desc=desc, disable=not show_progress)
        forward.train()
        loss_sum, correct, samples = 0.0, torch.zeros((), dtype=torch.long, device=device), 0
        for step, (x, y) in enumerate(batches, start=1):
            x = x.to(device, non_blocking=True)
            if config.channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            y = y.to(device, non_blocking=True)
            logits = forward(x)
            loss = loss_fn(logits, y)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                batches.close()
                raise _non_finite(loss_value, epoch, step, steps, lr, checkpoint_path, saved_epoch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            if scheduler is not None and interval == "batch":
                scheduler.step()
            loss_sum += loss_value * y.shape[0]
            correct += (logits.argmax(dim=1) == y).sum()
            samples += y.shape[0]
            batches.set_postfix(loss=f"{loss_value:.4f}", refresh=False)
        if samples == 0:
            raise ValueError(
                f"train_loader has len {steps} but yielded no samples in epoch {epoch}"
            )
        if scheduler is not None and interval == "epoch":
            scheduler.step()
        train_seconds = time.perf_counter() - started
        scores = None if eval_loader is None else evaluate(forward, eval_loader, device=device)
        record = EpochRecord(
            epoch=epoch,
            train_loss=loss_sum / samples,
            train_acc=int(correct) / samples,
            eval_loss=None if scores is None else scores.loss,
            eval_acc=None if scores is None else scores.accuracy,
            eval_name=None if scores is None else eval_name,
            lr=lr,
            seconds=time.perf_counter() - started,
            images_per_sec=samples / train_seconds,
        )
        history.append(record)
        batches.set_postfix({k: f"{v:.4f}" for k, v in record.metrics().items()})
        batches.close()
        logger.info("epoch %d/%d %s", epoch, config.epochs, _summary(record))
        state = TrainState(epoch, model, optimizer, config, history)
        stop = [callback.on_epoch_end(state) for callback in callbacks]  # every callback runs
        if checkpoint_path is not None:
            save_checkpoint(
                checkpoint_path,
                model=model,
                optimizer=optimizer,
                scheduler=scheduler,
                epoch=epoch,
                config=config,
                history=history,
                rng=rng_state(),
                stopped=any(stop),
            )
            saved_epoch = epoch
        if any(stop):
            logger.info("stopping after epoch %d: a callback asked to stop", epoch)
            break
    return history


def _steps_per_epoch(loader: Any, config: TrainConfig) -> int:
    """Return ``len(loader)`` after checking the loader fits the config."""
    try:
        steps = len(loader)
    except TypeError as error:
        raise ValueError(
            f"train_loader ({type(loader).__name__}) must define len() = batches per epoch"
        ) from error
    if steps == 0:
        raise ValueError(
            "train_loader is empty (0 batches per epoch): it holds no samples, or fewer than "
            "one batch with drop_last=True; give it data or a smaller batch_size"
        )
    batch_size = getattr(loader, "batch_size", None)
    if isinstance(batch_size, int) and batch_size != config.batch_size:
        raise ValueError(
            f"train_loader.batch_size is {batch_size} but config.batch_size is "
            f"{config.batch_size}; build the loader with batch_size=config.batch_size"
        )
    return steps


def _check_schedule_length(
    scheduler_state: dict[str, Any] | None, config: TrainConfig, steps: int
) -> None:
    """Refuse to resume a OneCycle schedule whose length no longer matches the run."""
    saved_total = (scheduler_state or {}).get("total_steps")
    if saved_total is not None and saved_total != config.epochs * steps:
        raise ValueError(
            f"cannot resume: the checkpoint's OneCycle schedule has {saved_total} steps but this "
            f"run has {config.epochs} epochs x {steps} batches = {config.epochs * steps}; "
            "use the checkpoint's epochs and loader length"
        )


def _non_finite(
    loss: float,
    epoch: int,
    step: int,
    steps: int,
    lr: float,
    path: str | os.PathLike[str] | None,
    saved_epoch: int | None,
) -> NonFiniteLossError:
    if path is None:
        kept = "no checkpoint_path was given, so nothing was saved"
    elif saved_epoch is None:
        kept = f"no checkpoint was written by this run; {str(path)!r} was left untouched"
    else:
        kept = f"the last good checkpoint is kept: {str(path)!r} (epoch {saved_epoch})"
    return NonFiniteLossError(
        f"training loss is {loss} at epoch {epoch}, step {step}/{steps}; {kept}. "
        f"Lower the learning rate (epoch started at lr={lr:.3g}), set grad_clip, "
        "or check the inputs for NaN/inf",
        epoch=epoch,
        step=step,
        loss=loss,
    )


def _summary(record: EpochRecord) -> str:
    metrics = " ".join(f"{name}={value:.4f}" for name, value in record.metrics().items())
    return f"{metrics} lr={record.lr:.3g} {record.images_per_sec:.0f} img/s {record.seconds:.1f}s"
