"""Worker processes on one machine: the CPU threads shared out by one rule, one pool.

A study trains seeds in worker processes (``tinyconv study --workers N``) and a search runs
its Optuna workers in them (``tinyconv search --workers N``). Both go through
:func:`process_pool`: spawned processes (nothing of the parent is shared but what is sent),
each started with :func:`split_threads` torch threads, so two workers on two cores do not
fight over four threads. A command's ``--threads`` goes through :func:`apply_threads`, whose
default is :func:`free_cores` (what other processes leave free, read from ``/proc/stat``),
and :func:`busy_machine_warning` says when a chosen ``--threads`` asks for more.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import torch


def split_threads(workers: int, threads: int | None = None) -> int:
    """Return the torch threads each of ``workers`` processes gets.

    Args:
        workers: Worker processes on this machine.
        threads: Threads to share out; ``None`` takes this process's torch thread count
            (what ``--threads`` or ``OMP_NUM_THREADS`` set, else the free cores a command
            took, else torch's default).

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


def busy_cores(sample_s: float = 0.25) -> float | None:
    """How many cores other processes keep busy right now.

    Linux: the share of non-idle CPU time in ``/proc/stat`` over ``sample_s`` seconds
    while this process sleeps, times the cores. Elsewhere: the 1-minute load average,
    which lags (a run that has just finished still counts for a minute). ``None`` when
    neither can be read.

    Args:
        sample_s: How long to sample ``/proc/stat``.

    Returns:
        Busy cores (a float), or ``None``.
    """

    def times() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        if len(fields) < 4:
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    before = times()
    if before is not None:
        time.sleep(sample_s)
        after = times()
        if after is not None and after[1] > before[1]:
            share = (after[0] - before[0]) / (after[1] - before[1])
            return share * (os.cpu_count() or 1)
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _usable_cores() -> int:
    """The CPUs this process may run on (its affinity where the platform says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def free_cores(busy: float | None = None, cores: int | None = None) -> int:
    """The cores other processes leave free: the default torch threads of a command.

    Two trainings on two cores slow each other 3-10 times: torch's threads wait for
    each other on cores another process holds. Measured on this project's 2-core
    machine with two other busy processes, one thread ran 5x faster than two.

    Args:
        busy: Cores other processes keep busy (default: :func:`busy_cores`).
        cores: CPU cores (default: the ones this process may run on).

    Returns:
        ``cores - round(busy)``, at least 1; all cores when ``busy`` cannot be read.

    Example:
        >>> free_cores(busy=2.1, cores=2), free_cores(busy=0.2, cores=2), free_cores(0.6, 16)
        (1, 2, 15)
    """
    cores = cores or _usable_cores()
    if busy is None:
        busy = busy_cores()
    return cores if busy is None else max(1, min(cores, cores - int(busy + 0.5)))


def busy_machine_warning(threads: int, busy: float | None = None, cores: int | None = None) -> str:
    """Say when other processes already keep the cores busy, so ``threads`` will be slow.

    Args:
        threads: The torch threads this process will use.
        busy: Cores other processes keep busy (default: :func:`busy_cores`).
        cores: CPU cores (default: the ones this process may run on).

    Returns:
        One line to print, or ``""`` when the cores are free enough.

    Example:
        >>> busy_machine_warning(2, busy=2.1, cores=2)[:52]
        'warning: the machine is busy (2.1 of 2 cores in use)'
        >>> busy_machine_warning(1, busy=2.1, cores=2), busy_machine_warning(2, busy=0.2, cores=2)
        ('', '')
    """
    cores = cores or _usable_cores()
    if busy is None:
        busy = busy_cores()
    if busy is None:
        return ""
    free = free_cores(busy, cores)
    if threads <= free:
        return ""
    return (
        f"warning: the machine is busy ({busy:.1f} of {cores} cores in use) and this "
        f"run uses {threads} torch threads; with --threads {free} it will likely run faster"
    )


def apply_threads(threads: int | None) -> int:
    """Set this process's torch threads and return them; ``None``: the free cores.

    The one place a command turns ``--threads`` into torch's setting. Without
    ``--threads`` a command takes :func:`free_cores`, at most torch's own default (the
    physical cores): all of them on an idle machine, one thread when other processes
    hold the cores (``OMP_NUM_THREADS``, if set, wins).

    Args:
        threads: Threads asked for, or ``None``.

    Returns:
        The threads torch now uses.

    Raises:
        UsageError: If ``threads`` is below 1.

    Example:
        >>> apply_threads(1)
        1
    """
    from tinyconv.errors import UsageError

    if threads is None:
        threads = torch.get_num_threads()  # torch's default: physical cores, or OMP_NUM_THREADS
        if not os.environ.get("OMP_NUM_THREADS"):
            threads = min(threads, free_cores())
    elif threads < 1:
        raise UsageError(f"--threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)
    return torch.get_num_threads()
