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
import os
import shutil
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from tinyconv.errors import TinyconvError
from tinyconv.train.callbacks import Callback, TrainState
from tinyconv.train.checkpoint import (
    CheckpointExistsError,
    check_resumable,
    load_checkpoint,
    save_checkpoint,
)
from tinyconv.train.compiled import begin_step, compiled_forward
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


class NonFiniteLossError(TinyconvError, RuntimeError):
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
    overwrite: bool = False,
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
        overwrite: Start a new run even though ``checkpoint_path`` exists (its old content is
            replaced after the first epoch). Without it, or ``resume``, an existing
            checkpoint is an error, so no finished run is lost by accident.

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
    if checkpoint_path is not None and not (resume or overwrite) and Path(checkpoint_path).exists():
        raise CheckpointExistsError(
            f"checkpoint {str(checkpoint_path)!r} already exists; pass resume=True to continue "
            "it, overwrite=True to start a new run over it, or choose another checkpoint_path"
        )
    _check_label_range(model, train_loader, "train_loader")
    if eval_loader is not None:
        _check_label_range(model, eval_loader, "eval_loader")
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
    forward = compiled_forward(model, config)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    report = _Progress(config.progress)
    sync_every = config.sync_every or (1 if device.type == "cpu" else ACCELERATOR_SYNC_EVERY)
    # float64 sums on the device: identical to summing Python floats, with no sync per step
    sum_dtype = torch.float32 if device.type == "mps" else torch.float64

    for epoch in range(done + 1, config.epochs + 1):
        started = time.perf_counter()
        if hasattr(train_loader, "set_epoch"):
            train_loader.set_epoch(epoch)
        lr = optimizer.param_groups[0]["lr"]
        batches = report.bar(train_loader, steps, f"epoch {epoch}/{config.epochs}")
        forward.train()
        loss_sum = torch.zeros((), dtype=sum_dtype, device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        first_bad = torch.zeros((), dtype=torch.long, device=device)  # 0: all finite so far
        bad_loss = torch.zeros((), dtype=torch.float32, device=device)
        samples = 0
        for step, (x, y) in enumerate(batches, start=1):
            x = x.to(device, non_blocking=True)
            if config.channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            y = y.to(device, non_blocking=True)
            begin_step(config)
            logits = forward(x)
            loss = _loss(loss_fn, logits, y, epoch, step)
            detached = loss.detach()
            newly_bad = (first_bad == 0) & ~torch.isfinite(detached)
            first_bad = torch.where(newly_bad, step, first_bad)
            bad_loss = torch.where(newly_bad, detached.float(), bad_loss)
            if step % sync_every == 0 or step == steps:
                _raise_if_non_finite(
                    first_bad, bad_loss, batches, epoch, steps, lr, checkpoint_path, saved_epoch
                )
                batches.set_postfix(loss=f"{detached.item():.4f}", refresh=False)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            if scheduler is not None and interval == "batch":
                scheduler.step()
            loss_sum += detached.to(sum_dtype) * y.shape[0]
            correct += (logits.detach().argmax(dim=1) == y).sum()
            samples += y.shape[0]
        if samples == 0:
            raise ValueError(
                f"train_loader has len {steps} but yielded no samples in epoch {epoch}"
            )
        _raise_if_non_finite(
            first_bad, bad_loss, batches, epoch, steps, lr, checkpoint_path, saved_epoch
        )
        if scheduler is not None and interval == "epoch":
            scheduler.step()
        train_seconds = time.perf_counter() - started
        scores = None if eval_loader is None else evaluate(forward, eval_loader, device=device)
        record = EpochRecord(
            epoch=epoch,
            train_loss=float(loss_sum) / samples,
            train_acc=int(correct) / samples,
            eval_loss=None if scores is None else scores.loss,
            eval_acc=None if scores is None else scores.accuracy,
            eval_name=None if scores is None else eval_name,
            lr=lr,
            seconds=time.perf_counter() - started,
            images_per_sec=samples / train_seconds,
        )
        history.append(record)
        report.epoch_done(batches, record, config.epochs)
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


ACCELERATOR_SYNC_EVERY = 50
"""Steps between looks at the finiteness flag on an accelerator when ``sync_every`` is None."""


class _Progress:
    """What ``fit`` shows while it trains: a tqdm bar, one line per epoch, or nothing."""

    def __init__(self, setting: bool | None) -> None:
        terminal = sys.stderr.isatty()
        self.use_bar = setting is True or (setting is None and terminal)
        self.use_lines = setting is None and not terminal

    def bar(self, loader: Iterable[Any], steps: int, desc: str) -> Any:
        # A pseudo-terminal may report a 0x0 size, and tqdm then hides every bar (it thinks
        # there is no room); shutil falls back to 80x24 where the size is unknown.
        columns, rows = shutil.get_terminal_size()
        return tqdm(
            loader, total=steps, desc=desc, disable=not self.use_bar, ncols=columns, nrows=rows
        )

    def epoch_done(self, bar: Any, record: EpochRecord, epochs: int) -> None:
        bar.set_postfix({k: f"{v:.4f}" for k, v in record.metrics().items()})
        bar.close()
        if self.use_lines:
            print(f"epoch {record.epoch}/{epochs} {_summary(record)}", file=sys.stderr, flush=True)


def _loss(loss_fn: nn.Module, logits: Tensor, y: Tensor, epoch: int, step: int) -> Tensor:
    """The training loss, with a label outside the model's classes named as such."""
    try:
        return loss_fn(logits, y)
    except IndexError as error:  # CPU: "Target 9 is out of bounds."
        raise ValueError(
            f"epoch {epoch}, step {step}: the model has {logits.shape[-1]} outputs (classes "
            f"0..{logits.shape[-1] - 1}) but label {int(y.max())} was seen; build the head "
            f"with num_classes={int(y.max()) + 1} or more, or remap the labels"
        ) from error


def _check_label_range(model: nn.Module, loader: Any, name: str) -> None:
    """Before training: every label a TensorLoader holds must be one of the model's classes."""
    classes = getattr(getattr(model, "_orig_mod", model), "num_classes", None)
    labels = getattr(getattr(loader, "dataset", None), "labels", None)
    if not isinstance(classes, int) or not isinstance(labels, Tensor) or labels.numel() == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        bad = high if high >= classes else low
        raise ValueError(
            f"{name} holds label {bad} but the model has {classes} outputs (classes "
            f"0..{classes - 1}); build the head with num_classes={max(high + 1, classes)} "
            "(the dataset's class count), or remap the labels"
        )


def _raise_if_non_finite(
    first_bad: Tensor,
    bad_loss: Tensor,
    batches: Any,
    epoch: int,
    steps: int,
    lr: float,
    path: str | os.PathLike[str] | None,
    saved_epoch: int | None,
) -> None:
    bad_step = int(first_bad)  # the host sync, once per ``sync_every`` steps
    if bad_step:
        batches.close()
        raise _non_finite(float(bad_loss), epoch, bad_step, steps, lr, path, saved_epoch)


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
