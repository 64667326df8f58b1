"""Worker processes on one machine: the CPU threads shared out by one rule, one pool.

A study trains seeds in worker processes (``tinyconv study --workers N``) and a search runs
its Optuna workers in them (``tinyconv search --workers N``). Both go through
:func:`process_pool`: spawned processes (nothing of the parent is shared but what is sent),
each started with :func:`split_threads` torch threads, so two workers on two cores do not
fight over four threads.
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
