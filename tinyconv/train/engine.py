"""The training engine: the one epoch/step loop that every way of training shares.

:func:`run_training` owns, once, what a run does around its steps: seeding, the optimizer
and scheduler, resuming from a checkpoint, the per-step non-finite guard (read every
``sync_every`` steps, so an accelerator is not stalled), scheduler stepping (OneCycle per
batch, StepLR per epoch), evaluation, epoch records, progress, the atomic per-epoch
checkpoint and the callbacks' events (:mod:`tinyconv.train.callbacks`: a loss term, step end,
epoch end). What differs between training one model and training K stacked seeds lives in a
small :class:`~tinyconv.train.steps.StepStrategy` (how a batch is assembled, the per-model
losses and hits, gradient clipping, scoring, the state a resume needs), so
:func:`~tinyconv.train.fit` and :func:`~tinyconv.train.fit_stacked` are thin entries to
this loop and both checkpoint and resume.

The module is a little over 300 lines because the loop is kept whole here, with the checks
that guard it and its one error type, so a reader sees every step of a run in one place.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from tinyconv.errors import TinyconvError
from tinyconv.train.callbacks import Callback, TrainState
from tinyconv.train.captured import CapturedStep
from tinyconv.train.checkpoint import (
    CheckpointExistsError,
    check_resumable,
    load_checkpoint,
    save_checkpoint,
)
from tinyconv.train.compiled import compiled_forward
from tinyconv.train.config import TrainConfig
from tinyconv.train.device import resolve_device
from tinyconv.train.history import EpochRecord, History
from tinyconv.train.optim import build_optimizer, build_scheduler
from tinyconv.train.progress import Progress, describe
from tinyconv.train.seed import rng_state, seed_everything, set_rng_state
from tinyconv.train.step_body import EpochSums, train_step
from tinyconv.train.steps import StepStrategy

logger = logging.getLogger(__name__)

ACCELERATOR_SYNC_EVERY = 50
"""Steps between looks at the finiteness flag on an accelerator when ``sync_every`` is None."""


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
        >>> from torch import nn
        >>> from tinyconv.train import fit
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

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across worker processes
        return (_rebuild_non_finite, (str(self), self.epoch, self.step, self.loss))


def _rebuild_non_finite(message: str, epoch: int, step: int, loss: float) -> NonFiniteLossError:
    return NonFiniteLossError(message, epoch=epoch, step=step, loss=loss)


def run_training(
    strategy: StepStrategy,
    config: TrainConfig,
    *,
    eval_loader: Iterable[tuple[Tensor, Tensor]] | None = None,
    eval_name: str = "val",
    callbacks: Sequence[Callback] = (),
    checkpoint_path: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    label: str = "",
) -> list[History]:
    """Train what ``strategy`` holds for ``config.epochs`` epochs (or the rest of them).

    Args:
        strategy: One model (:class:`~tinyconv.train.steps.SingleModelStep`) or K stacked
            seeds (:class:`~tinyconv.train.steps.StackedSeedsStep`) with their loaders.
        config: The run's settings.
        eval_loader: Scored after every epoch, if given.
        eval_name: Name of the evaluated set (``"val"``, ``"test"``); prefixes its metrics.
        callbacks: The loop's event handlers (see :class:`~tinyconv.train.Callback`).
        checkpoint_path: Written atomically after every epoch, if given.
        resume: Continue from ``checkpoint_path`` if that file exists.
        overwrite: Start a new run even though ``checkpoint_path`` exists.
        label: Prefix of the progress display (e.g. ``"seed 2 of 5"``).

    Returns:
        One history per trained model, each of all finished epochs (a resume's included).

    Raises:
        ValueError: On an empty or length-less loader, mismatched batch sizes, ``resume``
            without a path, a bad ``eval_name``, callbacks with stacked seeds, or a
            checkpoint of another run.
        CheckpointExistsError: If ``checkpoint_path`` exists and neither ``resume`` nor
            ``overwrite`` is set.
        NonFiniteLossError: If a training loss is NaN or infinite.
    """
    steps = strategy.steps_per_epoch(config)
    _check_arguments(
        strategy, eval_loader, eval_name, callbacks, checkpoint_path, resume, overwrite
    )
    strategy.check_labels(eval_loader)
    if config.capture and callbacks:
        raise ValueError(
            "callbacks run Python in every step and a captured step runs none; train with "
            "capture=False to use callbacks (distillation, QAT, pruning masks)"
        )
    if config.capture and strategy.members > 1:
        raise ValueError(
            "capture=True records one model's step: stacked seeds swap each seed's random "
            "state inside the step, which a CUDA graph does not replay; train stacked seeds "
            "without capture, or captured seeds one per process (workers)"
        )
    device = resolve_device(config.device)
    seed_everything(config.seed)
    module = strategy.prepare(device)
    if config.channels_last:
        module.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(module, config)
    scheduler, interval = build_scheduler(optimizer, config, steps)
    histories, done = [History() for _ in range(strategy.members)], 0
    if resume and checkpoint_path is not None and Path(checkpoint_path).exists():
        checkpoint = load_checkpoint(checkpoint_path, map_location=device)
        check_resumable(checkpoint.config, config)
        _check_schedule_length(checkpoint.scheduler_state, config, steps)
        module.load_state_dict(checkpoint.model_state)
        optimizer.load_state_dict(checkpoint.optimizer_state)
        if scheduler is not None and checkpoint.scheduler_state is not None:
            scheduler.load_state_dict(checkpoint.scheduler_state)
        set_rng_state(checkpoint.rng)
        histories = strategy.load_extra_state(checkpoint.history, checkpoint.extra, device)
        done = checkpoint.epoch
        if checkpoint.stopped:
            logger.info("not resuming: a callback stopped this run after epoch %d", done)
            strategy.finish()
            return histories
    saved_epoch = done or None
    forward = compiled_forward(module, config)
    progress = Progress(config.progress, label)
    sync_every = config.sync_every or (1 if device.type == "cpu" else ACCELERATOR_SYNC_EVERY)
    members = strategy.members
    sums = EpochSums.on(members, device)
    captured = (
        CapturedStep(forward, strategy, optimizer, config, sums, device) if config.capture else None
    )

    for epoch in range(done + 1, config.epochs + 1):
        started = time.perf_counter()
        strategy.set_epoch(epoch)
        lr = float(optimizer.param_groups[0]["lr"])  # a device tensor when captured
        bars = [
            progress.bar(loader, steps, f"epoch {epoch}/{config.epochs}", show=index == 0)
            for index, loader in enumerate(strategy.loaders)
        ]
        forward.train()
        sums.reset()
        samples = 0

        # the host sync, once per ``sync_every`` steps: eagerly before a bad step is taken,
        # captured after the replayed step (the run stops either way, its checkpoint kept)
        check_loss = functools.partial(_raise_if_non_finite, sums, bars, strategy, epoch, steps, lr,
                                       checkpoint_path, saved_epoch)  # fmt: skip
        for step, batches in enumerate(zip(*bars, strict=True), start=1):
            x, y = strategy.batch(batches, device, config.channels_last, epoch, step)
            looks = step % sync_every == 0 or step == steps
            if captured is not None:
                captured.step(x, y, epoch=epoch, step=step)
                if looks:
                    check_loss()
            else:
                optimizer.zero_grad(set_to_none=True)
                train_step(
                    forward, strategy, optimizer, config, sums, x, y, epoch=epoch, step=step,
                    callbacks=callbacks, check_loss=check_loss if looks else None,
                )  # fmt: skip
            if scheduler is not None and interval == "batch":
                scheduler.step()
            samples += y.shape[0]
        if samples == 0:
            raise ValueError(
                f"train_loader has len {steps} but yielded no samples in epoch {epoch}"
            )
        check_loss()
        if scheduler is not None and interval == "epoch":
            scheduler.step()
        train_seconds = time.perf_counter() - started
        scores = None if eval_loader is None else strategy.evaluate(forward, eval_loader, device)
        seconds = time.perf_counter() - started
        records = [
            EpochRecord(
                epoch=epoch,
                train_loss=float(sums.loss[k]) / samples,
                train_acc=int(sums.correct[k]) / samples,
                eval_loss=None if scores is None else scores[k].loss,
                eval_acc=None if scores is None else scores[k].accuracy,
                eval_name=None if scores is None else eval_name,
                lr=lr,
                seconds=seconds,
                images_per_sec=samples / train_seconds,
            )
            for k in range(members)
        ]
        for history, record in zip(histories, records, strict=True):
            history.append(record)
        progress.epoch_done(bars[0], records, config.epochs)
        logger.info("%sepoch %d/%d %s", progress.label, epoch, config.epochs, describe(records[0]))
        stop = False
        if callbacks:
            state = TrainState(epoch, strategy.model_for_callbacks, optimizer, config, histories[0])
            stop = any([callback.on_epoch_end(state) for callback in callbacks])  # all run
        if checkpoint_path is not None:
            save_checkpoint(
                checkpoint_path,
                model=module,
                optimizer=optimizer,
                scheduler=scheduler,
                epoch=epoch,
                config=config,
                history=histories[0],
                rng=rng_state(),
                stopped=stop,
                extra=strategy.extra_state(histories),
            )
            saved_epoch = epoch
        if stop:
            logger.info("stopping after epoch %d: a callback asked to stop", epoch)
            break
    strategy.finish()
    return histories


def _check_arguments(
    strategy: StepStrategy,
    eval_loader: object,
    eval_name: object,
    callbacks: Sequence[Callback],
    checkpoint_path: str | os.PathLike[str] | None,
    resume: bool,
    overwrite: bool,
) -> None:
    if resume and checkpoint_path is None:
        raise ValueError("resume=True needs checkpoint_path (the file to continue from)")
    if eval_loader is not None and (not isinstance(eval_name, str) or not eval_name):
        raise ValueError(f"eval_name must be a non-empty string such as 'val', got {eval_name!r}")
    if callbacks and strategy.model_for_callbacks is None:
        raise ValueError("callbacks need a single model; stacked seeds run without them")
    if checkpoint_path is not None and not (resume or overwrite) and Path(checkpoint_path).exists():
        raise CheckpointExistsError(
            f"checkpoint {str(checkpoint_path)!r} already exists; pass resume=True to continue "
            "it, overwrite=True to start a new run over it, or choose another checkpoint_path"
        )


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


def _raise_if_non_finite(
    sums: EpochSums,
    bars: list[Any],
    strategy: StepStrategy,
    epoch: int,
    steps: int,
    lr: float,
    path: str | os.PathLike[str] | None,
    saved_epoch: int | None,
    detached: Tensor | None = None,
) -> None:
    """Raise for a non-finite loss so far; with ``detached``, show the step's loss."""
    bad_steps = sums.first_bad.tolist()  # the host sync, once per ``sync_every`` steps
    for index, (step, loss) in enumerate(zip(bad_steps, sums.bad_loss.tolist(), strict=True)):
        if step:
            for bar in bars:
                bar.close()
            if path is None:
                kept = "no checkpoint_path was given, so nothing was saved"
            elif saved_epoch is None:
                kept = f"no checkpoint was written by this run; {str(path)!r} was left untouched"
            else:
                kept = f"the last good checkpoint is kept: {str(path)!r} (epoch {saved_epoch})"
            raise NonFiniteLossError(
                f"{strategy.who(index)}training loss is {loss} at epoch {epoch}, step "
                f"{step}/{steps}; {kept}. Lower the learning rate (epoch started at "
                f"lr={lr:.3g}), set grad_clip, or check the inputs for NaN/inf",
                epoch=epoch,
                step=step,
                loss=loss,
            )
    if detached is not None:
        bars[0].set_postfix(loss=f"{float(detached.mean()):.4f}", refresh=False)
