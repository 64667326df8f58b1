"""Checkpoints: everything a run needs to continue exactly where it stopped.

A checkpoint holds the model's ``state_dict`` (of the uncompiled module), the optimizer and
scheduler states, the number of finished epochs, the config, the history and the RNG states.
``save_checkpoint`` writes it atomically, so a crash mid-write keeps the previous checkpoint;
``load_checkpoint`` reads it back with ``weights_only=True`` (no arbitrary code is unpickled).
Since format 2 a checkpoint stores a SHA-256 digest of its content, checked at load, so a
damaged checkpoint is refused instead of resuming from silently changed weights; a format-1
checkpoint (written before the digest) is checked against its zip archive's CRC-32s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from tinyconv._digest import archive_problem, payload_problem, with_digest
from tinyconv.atomic import atomic_write
from tinyconv.errors import TinyconvError
from tinyconv.model import TinyNet
from tinyconv.model_file import model_record
from tinyconv.train.config import EXECUTION_FIELDS, TrainConfig
from tinyconv.train.history import History

CHECKPOINT_FORMAT = 2
_READABLE_FORMATS = {1: False, 2: True}  # format -> whether it stores a digest
_KEYS = ("format", "epoch", "model", "optimizer", "scheduler", "config", "history", "rng")

# Fields that may differ between the run that wrote a checkpoint and the run resuming it.
RESUMABLE_CHANGES = EXECUTION_FIELDS | {"epochs"}


class CheckpointExistsError(TinyconvError, FileExistsError):
    """``fit`` was asked to start a new run over an existing checkpoint.

    Example:
        >>> issubclass(CheckpointExistsError, FileExistsError)
        True
    """


class CheckpointError(TinyconvError, RuntimeError):
    """A checkpoint file exists but cannot be read or does not hold a tinyconv checkpoint.

    Example:
        >>> issubclass(CheckpointError, RuntimeError)
        True
    """


@dataclass
class Checkpoint:
    """The loaded content of a checkpoint file.

    Attributes:
        epoch: Number of finished epochs.
        model_state: The model's ``state_dict``.
        optimizer_state: The optimizer's ``state_dict``.
        scheduler_state: The scheduler's ``state_dict`` or ``None``.
        config: The config of the run that wrote it.
        history: The records of the finished epochs.
        rng: RNG states as returned by ``tinyconv.train.rng_state``.
        stopped: Whether a callback ended the run early at ``epoch`` (a resume then
            trains no further).
        extra: What else the training strategy needs to resume (for stacked seeds: every
            seed's history and dropout stream), or ``None``.

    Example:
        >>> import tempfile
        >>> from tinyconv.train.optim import build_optimizer
        >>> from tinyconv.train.seed import rng_state
        >>> model = nn.Linear(2, 1)
        >>> path = Path(tempfile.mkdtemp()) / "last.pt"
        >>> _ = save_checkpoint(path, model=model, optimizer=build_optimizer(model, TrainConfig()),
        ...     scheduler=None, epoch=1, config=TrainConfig(), history=History(), rng=rng_state())
        >>> checkpoint = load_checkpoint(path)
        >>> checkpoint.epoch, sorted(checkpoint.model_state), checkpoint.scheduler_state
        (1, ['bias', 'weight'], None)
    """

    epoch: int
    model_state: dict[str, Any]
    optimizer_state: dict[str, Any]
    scheduler_state: dict[str, Any] | None
    config: TrainConfig
    history: History
    rng: dict[str, Any]
    stopped: bool = False
    extra: dict[str, Any] | None = None


def unwrap_model(model: nn.Module) -> nn.Module:
    """Return the module inside a ``torch.compile`` wrapper (or the module itself)."""
    inner = getattr(model, "_orig_mod", model)
    return inner if isinstance(inner, nn.Module) else model


def save_checkpoint(
    path: str | os.PathLike[str],
    *,
    model: nn.Module,
    optimizer: Optimizer,
    scheduler: LRScheduler | None,
    epoch: int,
    config: TrainConfig,
    history: History,
    rng: dict[str, Any],
    stopped: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically (temporary file, fsync, ``os.replace``).

    For a :class:`~tinyconv.TinyNet` the checkpoint also holds its model record
    (architecture, class names, normalisation), so :func:`tinyconv.load` turns it into
    the trained model without the code that built it.

    Args:
        path: Destination file; its directory must exist.
        model: The model (a ``torch.compile`` wrapper is unwrapped first).
        optimizer: The optimizer.
        scheduler: The scheduler or ``None``.
        epoch: Number of finished epochs.
        config: The run's config.
        history: Records of the finished epochs.
        rng: RNG states from ``rng_state()``.
        stopped: Whether a callback ended the run early at ``epoch``.
        extra: The training strategy's own resume state (tensors and plain data), if any.

    Returns:
        The destination path.

    Raises:
        FileNotFoundError: If the destination directory does not exist.

    Example:
        >>> import tempfile
        >>> from tinyconv.train.optim import build_optimizer
        >>> from tinyconv.train.seed import rng_state
        >>> model = nn.Linear(2, 1)
        >>> path = Path(tempfile.mkdtemp()) / "last.pt"
        >>> _ = save_checkpoint(path, model=model, optimizer=build_optimizer(model, TrainConfig()),
        ...     scheduler=None, epoch=3, config=TrainConfig(), history=History(), rng=rng_state())
        >>> load_checkpoint(path).epoch
        3
    """
    inner = unwrap_model(model)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "epoch": epoch,
        "model": inner.state_dict(),
        "model_record": model_record(inner) if isinstance(inner, TinyNet) else None,
        "optimizer": optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "config": config.to_dict(),
        "history": history.to_list(),
        "rng": rng,
        "stopped": stopped,
        "extra": extra,
    }
    payload = with_digest(payload)
    return atomic_write(path, lambda file: torch.save(payload, file))


def load_checkpoint(
    path: str | os.PathLike[str], map_location: str | torch.device | None = "cpu"
) -> Checkpoint:
    """Read a checkpoint written by ``save_checkpoint``.

    Args:
        path: The checkpoint file.
        map_location: Where to put its tensors (as in ``torch.load``).

    Returns:
        The checkpoint's content.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        CheckpointError: If the file is unreadable, truncated, corrupt or not a tinyconv
            checkpoint of a known format.

    Example:
        >>> import tempfile
        >>> broken = Path(tempfile.mkdtemp()) / "broken.pt"
        >>> _ = broken.write_bytes(b"not a checkpoint")
        >>> load_checkpoint(broken)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        CheckpointError: ...
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {str(source)!r}; check the path or train without resume"
        )
    try:
        payload = torch.load(source, map_location=map_location, weights_only=True)
    except Exception as error:  # a damaged file can fail anywhere in the unpickler
        raise CheckpointError(
            f"cannot read checkpoint {str(source)!r} ({source.stat().st_size} bytes): it is "
            f"unreadable, corrupt, truncated or not a torch file ({type(error).__name__}: "
            f"{error}); "
            "delete it to start over or point to another checkpoint"
        ) from error
    if not isinstance(payload, dict) or payload.get("format") not in _READABLE_FORMATS:
        problem = archive_problem(source)
        if problem is not None:
            raise _damaged(source, problem)
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(
            f"{str(source)!r} is not a tinyconv checkpoint of format "
            f"{' or '.join(map(str, _READABLE_FORMATS))} (found format {found!r}); it was not "
            "written by tinyconv.train.save_checkpoint"
        )
    problem = checkpoint_problem(source, payload)
    if problem is not None:
        raise _damaged(source, problem)
    missing = [key for key in _KEYS if key not in payload]
    if missing:
        raise CheckpointError(f"checkpoint {str(source)!r} lacks the entries {missing}")
    return Checkpoint(
        epoch=payload["epoch"],
        model_state=payload["model"],
        optimizer_state=payload["optimizer"],
        scheduler_state=payload["scheduler"],
        config=TrainConfig.from_dict(payload["config"]),
        history=History.from_list(payload["history"]),
        rng=payload["rng"],
        stopped=bool(payload.get("stopped", False)),
        extra=payload.get("extra"),
    )


def checkpoint_problem(source: Path, payload: dict[str, Any]) -> str | None:
    """Say how a loaded checkpoint is damaged, or return ``None`` if it is intact.

    Args:
        source: The file it was loaded from.
        payload: Its loaded content (a dict with a known ``format``).

    Returns:
        ``None``, or a phrase naming the damage (digest mismatch; for format 1, which has
        no digest, a record whose bytes do not match the archive's CRC-32).
    """
    required = _READABLE_FORMATS.get(payload.get("format"), True)  # type: ignore[arg-type]
    return payload_problem(source, payload, digest_required=required)


def _damaged(source: Path, problem: str) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {str(source)!r} is damaged: {problem}, so it changed after it was written; "
        "delete it to train that run from its start, or restore it from a good copy"
    )


def check_resumable(saved: TrainConfig, current: TrainConfig) -> None:
    """Check that a run with ``current`` may continue a checkpoint written with ``saved``.

    Only ``epochs`` (more or fewer), ``device``, ``compile``, ``compile_mode``,
    ``channels_last``, ``progress`` and ``sync_every`` may change; with
    ``scheduler="onecycle"`` the epochs must match too, because the cycle length does.

    Args:
        saved: The config stored in the checkpoint.
        current: The config of the resuming run.

    Raises:
        ValueError: Naming every field that differs, with both values.

    Example:
        >>> check_resumable(TrainConfig(epochs=2), TrainConfig(epochs=5))
        >>> check_resumable(TrainConfig(lr=0.1), TrainConfig(lr=0.2))
        Traceback (most recent call last):
        ...
        ValueError: cannot resume: the config differs from the checkpoint's in lr (checkpoint 0.1, now 0.2); resume with the checkpoint's values or start a new run
    """  # noqa: E501
    free = set(RESUMABLE_CHANGES)
    if saved.scheduler == "onecycle":
        free.discard("epochs")
    old, new = saved.to_dict(), current.to_dict()
    changes = [
        f"{name} (checkpoint {old[name]!r}, now {new[name]!r})"
        for name in old
        if name not in free and old[name] != new[name]
    ]
    if changes:
        raise ValueError(
            f"cannot resume: the config differs from the checkpoint's in {', '.join(changes)}; "
            "resume with the checkpoint's values or start a new run"
        )
