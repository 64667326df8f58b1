"""``Recipe``: everything that defines one training experiment, as data.

A recipe names a model (its block specs), a training configuration, the data
augmentation and the parameter budget. :func:`run_seed` trains it once for one
seed on the full training set and scores the test set after every epoch for the
record (never to choose anything).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import torch

from tinyconv.data import ImageDataset, RandomRotation, TensorLoader
from tinyconv.model import TinyNet, build
from tinyconv.parameters import check_budget, count_parameters
from tinyconv.specs import BlockSpec
from tinyconv.train import TrainConfig, fit, resolve_device


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """One experiment: model specs, training config, augmentation and budget.

    Args:
        name: Short identifier, used for result files (``results/<name>.json``).
        description: One line saying what this recipe changes.
        specs: The model's block specs, in order.
        train: The training configuration (its ``seed`` is replaced per run).
        rotation_degrees: Random rotation range ``[-d, d]`` for training images; 0 for none.
        rotation_fill: Value of uncovered corners after rotation, on the [0, 1] image scale.
        max_params: Parameter budget the model must meet.
        eval_batch_size: Batch size for scoring the test set.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec
        >>> recipe = Recipe(
        ...     name="tiny",
        ...     specs=(ConvSpec(out_channels=4), GAPHeadSpec(num_classes=10)),
        ...     train=TrainConfig(epochs=1),
        ... )
        >>> recipe.build_model().num_classes
        10
    """

    name: str
    description: str = ""
    specs: tuple[BlockSpec, ...]
    train: TrainConfig
    rotation_degrees: float = 0.0
    rotation_fill: float = 0.0
    max_params: int = 8000
    eval_batch_size: int = 1000

    def build_model(self) -> TinyNet:
        """Build a fresh model from the specs and check it against the budget.

        Returns:
            The model.

        Raises:
            BudgetExceededError: If the model has more than ``max_params`` parameters.
        """
        model = build(self.specs, num_classes=10)
        check_budget(model, self.max_params)
        return model

    def augmentation(self) -> RandomRotation | None:
        """Return the training augmentation, or ``None``."""
        if self.rotation_degrees == 0:
            return None
        return RandomRotation(self.rotation_degrees, fill=self.rotation_fill)

    def to_dict(self) -> dict[str, Any]:
        """Describe the recipe as JSON-able data (specs by their repr)."""
        return {
            "name": self.name,
            "description": self.description,
            "specs": [repr(spec) for spec in self.specs],
            "train": self.train.to_dict(),
            "rotation_degrees": self.rotation_degrees,
            "rotation_fill": self.rotation_fill,
            "max_params": self.max_params,
        }


def run_seed(
    recipe: Recipe,
    seed: int,
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    device: str = "auto",
    epochs: int | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Train ``recipe`` once with ``seed``, scoring ``test_set`` after every epoch.

    Args:
        recipe: What to train.
        seed: Seed for weights, shuffling, augmentation and dropout.
        train_set: Training images (all of them for a reproduction).
        test_set: Images scored after every epoch, for the record only.
        device: ``"auto"`` or a device string.
        epochs: Override ``recipe.train.epochs`` (for smoke runs).
        progress: Show a progress bar (``None``: only on a terminal).

    Returns:
        A JSON-able dict: seed, device, params, epochs, the numbers of training and
        test images, per-epoch history, the final and
        the best epoch's test accuracy (the best is for information only), the
        final training accuracy and the wall time in seconds.
    """
    torch.manual_seed(seed)
    model = recipe.build_model()
    config = dataclasses.replace(
        recipe.train,
        seed=seed,
        device=device,
        epochs=epochs or recipe.train.epochs,
        progress=progress,
    )
    target = resolve_device(device)
    train_loader = TensorLoader(
        train_set,
        config.batch_size,
        shuffle=True,
        seed=seed,
        device=target,
        augment=recipe.augmentation(),
    )
    test_loader = TensorLoader(test_set, recipe.eval_batch_size, device=target)
    start = time.perf_counter()
    history = fit(model, train_loader, config, eval_loader=test_loader, eval_name="test")
    wall = time.perf_counter() - start
    best = history.best("test_acc")
    return {
        "seed": seed,
        "device": str(target),
        "device_name": torch.cuda.get_device_name(target) if target.type == "cuda" else "cpu",
        "torch_threads": torch.get_num_threads(),
        "params": count_parameters(model),
        "epochs": config.epochs,
        "train_samples": len(train_set),
        "test_samples": len(test_set),
        "final_test_acc": history.final.eval_acc,
        "final_train_acc": history.final.train_acc,
        "best_test_acc": best.eval_acc,
        "best_epoch": best.epoch,
        "wall_seconds": wall,
        "history": history.to_list(),
    }
