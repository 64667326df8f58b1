"""Several seeds at a time: stacked groups in one process, or seeds in worker processes.

:func:`stacked_runs` trains seeds K at a time as one stacked network
(:func:`~tinyconv.study.recipe.run_seeds_stacked`); a group has no per-epoch checkpoint, so
an interrupted group starts again from epoch 1 (a group of one seed is trained by
:func:`~tinyconv.study.recipe.run_seed` and keeps its checkpoint). :func:`parallel_runs`
trains seeds in N spawned worker processes, each with ``max(1, threads // N)`` torch threads
of the parent's ``threads``; every seed keeps its per-epoch checkpoint and resumes from it.
Both yield ``(result, model)`` as each seed finishes, so the caller saves it at once.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import torch

from tinyconv.data import ImageDataset
from tinyconv.model import TinyNet
from tinyconv.recipe import Recipe
from tinyconv.study.recipe import run_seed, run_seeds_stacked

Run = tuple[dict[str, Any], TinyNet]
"""One finished seed: its JSON-able result and its trained model."""

_WORKER_DATA: dict[str, ImageDataset] = {}


def stacked_runs(
    recipe: Recipe,
    seeds: Sequence[int],
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    stack: int,
    checkpoints: Callable[[int], Path],
    device: str = "auto",
    progress: bool | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Iterator[Run]:
    """Train ``seeds`` in stacked groups of ``stack``, yielding each seed when its group ends.

    Args:
        recipe: What to train.
        seeds: Seeds to train from scratch, in order.
        train_set: Training images.
        test_set: Images scored after every epoch, for the record.
        stack: Seeds per group (the last group may be smaller).
        checkpoints: A seed's checkpoint path (used for a group of one seed only).
        device: ``"auto"`` or a device string.
        progress: As :attr:`tinyconv.train.TrainConfig.progress`.
        say: Called with a line for each group started.

    Yields:
        ``(result, model)`` per seed, in seed order.
    """
    seeds = list(seeds)
    for start in range(0, len(seeds), stack):
        group = seeds[start : start + stack]
        epochs = recipe.train.epochs
        if len(group) == 1:
            say(f"seed {group[0]}: training {epochs} epochs")
            yield run_seed(
                recipe,
                group[0],
                train_set,
                test_set,
                device=device,
                progress=progress,
                checkpoint_path=checkpoints(group[0]),
            )
            continue
        say(
            f"seeds {', '.join(map(str, group))}: training {epochs} epochs stacked as one "
            "network (no per-epoch checkpoint: if interrupted, this group restarts from epoch 1)"
        )
        yield from run_seeds_stacked(
            recipe, group, train_set, test_set, device=device, progress=progress
        )


def parallel_runs(
    recipe: Recipe,
    seeds: Sequence[int],
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    workers: int,
    checkpoints: Callable[[int], Path],
    device: str = "auto",
    say: Callable[[str], None] = lambda line: None,
) -> Iterator[Run]:
    """Train ``seeds`` in ``workers`` spawned processes, yielding each seed as it finishes.

    Each worker gets ``max(1, torch.get_num_threads() // workers)`` torch threads (the
    parent's thread count is the budget: set it with ``--threads`` or ``OMP_NUM_THREADS``).
    Seeds run exactly as :func:`~tinyconv.study.recipe.run_seed` runs them, checkpoint and
    resume included; workers show no progress bar.

    Args:
        recipe: What to train.
        seeds: Seeds to train or resume.
        train_set: Training images (sent once to each worker).
        test_set: Images scored after every epoch.
        workers: Number of worker processes.
        checkpoints: A seed's checkpoint path.
        device: ``"auto"`` or a device string.
        say: Called with a line for each seed handed to a worker.

    Yields:
        ``(result, model)`` per seed, in the order the seeds finish.
    """
    threads = max(1, torch.get_num_threads() // workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(train_set, test_set, threads),
    ) as pool:
        futures = []
        for seed in seeds:
            checkpoint = checkpoints(seed)
            where = f"in one of {workers} worker processes, {threads} torch thread(s) each"
            if checkpoint.exists():
                say(f"seed {seed}: resuming from its checkpoint {where}")
            else:
                say(f"seed {seed}: training {recipe.train.epochs} epochs {where}")
            futures.append(pool.submit(_train_in_worker, recipe, seed, device, str(checkpoint)))
        for future in as_completed(futures):
            result, model_bytes = future.result()
            yield result, pickle.loads(model_bytes)


def _start_worker(train_set: ImageDataset, test_set: ImageDataset, threads: int) -> None:
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    _WORKER_DATA.update(train=train_set, test=test_set)


def _train_in_worker(
    recipe: Recipe, seed: int, device: str, checkpoint: str
) -> tuple[dict[str, Any], bytes]:
    result, model = run_seed(
        recipe,
        seed,
        _WORKER_DATA["train"],
        _WORKER_DATA["test"],
        device=device,
        progress=False,
        checkpoint_path=checkpoint,
    )
    return result, pickle.dumps(model)
