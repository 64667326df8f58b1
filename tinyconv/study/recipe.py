"""One seed (or a stacked group) of a study, trained and turned into its results record.

Training is :func:`tinyconv.experiment.train_recipe`'s; this module only names what a study
records of a trained seed (:func:`seed_record`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch

from tinyconv.data import ImageDataset
from tinyconv.experiment import TrainedSeed, train_recipe
from tinyconv.model import TinyNet
from tinyconv.parameters import count_parameters
from tinyconv.recipe import Recipe
from tinyconv.train import resolve_device


def seed_record(run: TrainedSeed, device: str, sizes: tuple[int, int]) -> dict[str, Any]:
    """The JSON-able results record of one trained seed (also tags ``run.model.metadata``).

    Args:
        run: The trained seed.
        device: The device string it trained on (``"auto"`` is resolved).
        sizes: The numbers of training and test images.

    Returns:
        Seed, device, torch threads, parameters, epochs, image counts, the final and the
        best epoch's test accuracy (the best for information only), the final training
        accuracy, the training wall time summed over epochs, the epoch it resumed after,
        the per-epoch history and, for a stacked seed, the seeds trained with it.
    """
    target = resolve_device(device)
    history = run.history
    best = history.best("test_acc")
    run.model.metadata.update(seed=run.seed, final_test_acc=history.final.eval_acc)
    record = {
        "seed": run.seed,
        "device": str(target),
        "device_name": torch.cuda.get_device_name(target) if target.type == "cuda" else "cpu",
        "torch_threads": torch.get_num_threads(),
        "params": count_parameters(run.model),
        "epochs": len(history),
        "train_samples": sizes[0],
        "test_samples": sizes[1],
        "final_test_acc": history.final.eval_acc,
        "final_train_acc": history.final.train_acc,
        "best_test_acc": best.eval_acc,
        "best_epoch": best.epoch,
        "wall_seconds": sum(record.seconds for record in history),
        "resumed_after_epoch": run.resumed_after_epoch,
        "history": history.to_list(),
    }
    if run.stacked_with:
        record["stacked_seeds"] = list(run.stacked_with)
    return record


def run_seeds(
    recipe: Recipe,
    seeds: Sequence[int],
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    device: str = "auto",
    progress: bool | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    label: str = "",
) -> list[tuple[dict[str, Any], TinyNet]]:
    """Train ``recipe`` for ``seeds`` (one, or a stacked group) scoring the test set per epoch.

    Args:
        recipe: What to train.
        seeds: One seed, or several trained at once as one stacked network.
        train_set: Training images (all of them for a reproduction).
        test_set: Images scored after every epoch, for the record only.
        device: ``"auto"`` or a device string.
        progress: As :attr:`tinyconv.train.TrainConfig.progress`.
        checkpoint_path: Where to checkpoint (and resume from), or ``None``.
        label: Prefix of the progress display.

    Returns:
        One ``(record, model)`` per seed (see :func:`seed_record`).
    """
    runs = train_recipe(
        recipe,
        seeds,
        train_set,
        test_set,
        eval_name="test",
        device=device,
        progress=progress,
        checkpoint_path=checkpoint_path,
        label=label,
    )
    sizes = (len(train_set), len(test_set))
    return [(seed_record(run, device, sizes), run.model) for run in runs]


def run_seed(
    recipe: Recipe,
    seed: int,
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    device: str = "auto",
    progress: bool | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, Any], TinyNet]:
    """Train ``recipe`` once with ``seed`` (see :func:`run_seeds`)."""
    (run,) = run_seeds(
        recipe,
        [seed],
        train_set,
        test_set,
        device=device,
        progress=progress,
        checkpoint_path=checkpoint_path,
    )
    return run


def run_seeds_stacked(
    recipe: Recipe,
    seeds: Sequence[int],
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    device: str = "auto",
    progress: bool | None = None,
) -> list[tuple[dict[str, Any], TinyNet]]:
    """Train ``recipe`` for several seeds at once as one stacked network (see :func:`run_seeds`)."""
    return run_seeds(recipe, seeds, train_set, test_set, device=device, progress=progress)
