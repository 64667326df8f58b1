"""Worker processes on one machine: the CPU threads shared out by one rule, one pool.

A study trains seeds in worker processes (``tinyconv study --workers N``) and a search runs
its Optuna workers in them (``tinyconv search --workers N``). Both go through
:func:`process_pool`: spawned processes (nothing of the parent is shared but what is sent),
each started with :func:`split_threads` torch threads, so two workers on two cores do not
fight over four threads. A command's ``--threads`` goes through :func:`apply_threads`, and
:func:`busy_machine_warning` says when other processes already hold the cores.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import torch


def split_threads(workers: int, threads: int | None = None) -> int:
    """Return the torch threads each of ``workers`` processes gets.

    Args:
        workers: Worker processes on this machine.
        threads: Threads to share out; ``None`` takes this process's torch thread count
            (what ``--threads`` or ``OMP_NUM_THREADS`` set, else the machine's cores).

    Returns:
        ``threads // workers``, at least 1.

    Raises:
        ValueError: If ``workers`` or ``threads`` is below 1.

    Example:
        >>> split_threads(2, 2), split_threads(3, 8), split_threads(4, 2)
        (1, 2, 1)
    """
    budget = torch.get_num_threads() if threads is None else threads
    for name, value in (("workers", workers), ("threads", budget)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return max(1, budget // workers)


def process_pool(
    workers: int,
    threads_each: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """Start ``workers`` spawned processes, each with ``threads_each`` torch threads.

    Args:
        workers: Number of processes.
        threads_each: Torch (and OpenMP) threads in each (see :func:`split_threads`).
        initializer: Called once in each process after its threads are set.
        initargs: Arguments of ``initializer``.

    Returns:
        The pool; use it as a context manager, so its processes end with it.

    Example:
        >>> with process_pool(1, 1) as pool:
        ...     pool.submit(os.getpid).result() != os.getpid()
        True
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(threads_each, initializer, initargs),
    )


def _start_worker(
    threads: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]
) -> None:
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if initializer is not None:
        initializer(*initargs)


def busy_machine_warning(threads: int, load: float | None = None, cores: int | None = None) -> str:
    """Say when other processes already keep the cores busy, so ``threads`` will be slow.

    Two trainings on two cores slow each other 3-10 times: torch's threads wait for
    each other on cores another process holds. Measured on this project's 2-core
    machine with two other busy processes, one thread ran 5x faster than two.

    Args:
        threads: The torch threads this process will use.
        load: The 1-minute load average (default: the machine's, where it has one).
        cores: CPU cores (default: ``os.cpu_count()``).

    Returns:
        One line to print, or ``""`` when the cores are free enough.

    Example:
        >>> busy_machine_warning(2, load=2.1, cores=2)[:59]
        'warning: the machine is busy (load average 2.1 on 2 cores) '
        >>> busy_machine_warning(1, load=2.1, cores=2), busy_machine_warning(2, load=0.2, cores=2)
        ('', '')
    """
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # no load average on this platform
            return ""
    cores = cores or os.cpu_count() or 1
    free = max(1, cores - round(load))
    if threads <= free:
        return ""
    return (
        f"warning: the machine is busy (load average {load:.1f} on {cores} cores) and this "
        f"run uses {threads} torch threads; with --threads {free} it will likely run faster"
    )


def apply_threads(threads: int | None) -> int:
    """Set this process's torch threads (``None``: leave torch's default) and return them.

    The one place a command turns ``--threads`` into torch's setting.

    Args:
        threads: Threads asked for, or ``None``.

    Returns:
        The threads torch now uses.

    Raises:
        UsageError: If ``threads`` is below 1.

    Example:
        >>> apply_threads(None) == torch.get_num_threads()
        True
    """
    from tinyconv.errors import UsageError

    if threads is not None:
        if threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    return torch.get_num_threads()
