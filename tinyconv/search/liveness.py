"""Which worker runs a trial, whether it is still alive, and what to do when it is not.

Every trial records its worker (host name, process id and the process's start time)
as the user attribute ``"worker"``. Optuna's journal storage has no heartbeat, so a
worker killed with ``kill -9`` would leave its trial RUNNING forever; instead, every
worker looks, before each trial, for RUNNING trials of dead processes on its own host,
marks them FAIL and queues them again with Optuna's retry callback — the same callback
Optuna's heartbeat uses for RDB storages. Trials of other hosts are left to their own
host's workers (or, in an RDB storage, to the heartbeat).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

__all__ = ["process_alive", "reap_dead_trials", "worker_identity"]


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19]) if fields[0] != "Z" else None


def worker_identity() -> dict[str, Any]:
    """Return what identifies this process among a study's workers.

    Returns:
        ``{"host": ..., "pid": ..., "start": ...}``; ``start`` (Linux only) tells a
        reused process id from the original.

    Example:
        >>> worker_identity()["pid"] == os.getpid()
        True
    """
    return {"host": socket.gethostname(), "pid": os.getpid(), "start": _start_ticks(os.getpid())}


def process_alive(worker: dict[str, Any]) -> bool | None:
    """Tell whether the worker a trial recorded is still running.

    Args:
        worker: A :func:`worker_identity` dict.

    Returns:
        ``True`` or ``False`` for a worker of this host (a zombie counts as dead; a
        reused process id with another start time too); ``None`` for another host's.

    Example:
        >>> process_alive(worker_identity())
        True
    """
    if worker.get("host") != socket.gethostname():
        return None
    pid = int(worker["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    if Path("/proc").is_dir():
        start = _start_ticks(pid)
        return start is not None and (worker.get("start") in (None, start))
    return True


def reap_dead_trials(
    study: optuna.Study, log: Callable[[str], None] = lambda line: None
) -> list[int]:
    """Mark the RUNNING trials of dead workers on this host FAIL and queue them again.

    Safe to run in many workers at once: only the worker whose FAIL lands queues the
    retry (Optuna refuses to update a finished trial).

    Args:
        study: The shared study.
        log: Receives one line per trial reaped.

    Returns:
        Numbers of the trials this call marked FAIL.
    """
    from tinyconv.search.storage import retry_callback

    storage = study._storage
    reaped = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        if not isinstance(worker, dict) or process_alive(worker) is not False:
            continue
        try:
            updated = storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        if updated is False:
            continue
        reaped.append(trial.number)
        retry_callback()(study, storage.get_trial(trial._trial_id))
        log(
            f"trial {trial.number}: its worker (pid {worker['pid']}) died; marked FAIL "
            "and queued again"
        )
    return reaped
