"""What a study records of one trained seed: its JSON-able results record.

Training is :func:`tinyconv.experiment.train_recipe`'s; :func:`seed_record` names what the
results file keeps of a :class:`~tinyconv.experiment.TrainedSeed`.
"""

from __future__ import annotations

from typing import Any

import torch

from tinyconv.experiment import TrainedSeed
from tinyconv.parameters import count_parameters
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

    Example:
        >>> import torch
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> from tinyconv.train import EpochRecord, History
        >>> model = build([ConvSpec(out_channels=2, stride=4), GAPHeadSpec(num_classes=2)],
        ...               input_size=(8, 8))
        >>> history = History([EpochRecord(1, 0.7, 0.5, 0.6, 0.55, "test", 0.01, 2.0, 100.0)])
        >>> record = seed_record(TrainedSeed(3, model, history), "cpu", (100, 50))
        >>> record["seed"], record["final_test_acc"], record["train_samples"]
        (3, 0.55, 100)
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
