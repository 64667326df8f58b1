"""``Recipe``: everything that defines one training experiment, as data.

A recipe names its dataset (from the registry in :mod:`tinyconv.data`), the model
(its block specs), a training configuration, the augmentation (as specs) and the
parameter budget. It round-trips through JSON (:meth:`Recipe.to_dict`,
:meth:`Recipe.from_dict`), so a results file, a search trial or a file a user
writes can rebuild it. :func:`run_seed` trains it once for one seed on the full
training set and scores the test set after every epoch for the record (never to
choose anything).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tinyconv.data import (
    AugmentSpec,
    ImageDataset,
    TensorLoader,
    augment_from_dict,
    dataset_info,
    make_augmentation,
)
from tinyconv.data.registry import check_dataset_name
from tinyconv.errors import SpecError
from tinyconv.model import TinyNet, build
from tinyconv.parameters import check_budget, count_parameters
from tinyconv.specs import BlockSpec, specs_from_list, specs_to_list
from tinyconv.train import History, TrainConfig, fit, resolve_device

RECIPE_FORMAT_VERSION = 1
"""Version of the dict layout of :meth:`Recipe.to_dict`."""


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """One experiment: dataset, model specs, training config, augmentation and budget.

    Args:
        name: Short identifier, used for result files (``results/<name>.json``).
        description: One line saying what this recipe changes.
        dataset: Registered dataset name (``"mnist"``, ``"fashion_mnist"``); the model
            is built for its image shape and class count.
        specs: The model's block specs, in order.
        train: The training configuration (its ``seed`` is replaced per run).
        augment: Training augmentation specs, applied in order.
        max_params: Parameter budget the model must meet.
        eval_batch_size: Batch size for scoring the test set.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec
        >>> recipe = Recipe(
        ...     name="tiny",
        ...     specs=(ConvSpec(out_channels=4), GAPHeadSpec(num_classes=10)),
        ...     train=TrainConfig(epochs=1),
        ... )
        >>> recipe.build_model(seed=0).num_classes
        10
        >>> Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe
        True
    """

    name: str
    description: str = ""
    dataset: str = "mnist"
    specs: tuple[BlockSpec, ...]
    train: TrainConfig
    augment: tuple[AugmentSpec, ...] = ()
    max_params: int = 8000
    eval_batch_size: int = 1000

    def build_model(self, seed: int | None = None) -> TinyNet:
        """Build a fresh model for the recipe's dataset and check it against the budget.

        Args:
            seed: Seed for the initial weights (see :func:`tinyconv.build`).

        Returns:
            The model, knowing its dataset, class names and normalisation.

        Raises:
            BudgetExceededError: If the model has more than ``max_params`` parameters.
            ValueError: If the specs do not fit the dataset's images or classes.
        """
        info = dataset_info(self.dataset)
        channels, height, width = info.image_shape
        model = build(
            self.specs,
            in_channels=channels,
            input_size=(height, width),
            num_classes=len(info.class_names),
            seed=seed,
        )
        check_budget(model, self.max_params)
        model.dataset = self.dataset
        model.class_names = info.class_names
        model.normalization = info.normalization.to_dict()
        model.metadata = {"recipe": self.name}
        return model

    def augmentation(self) -> Callable[..., torch.Tensor] | None:
        """Return the training augmentation as one callable, or ``None``."""
        return make_augmentation(self.augment)

    def to_dict(self) -> dict[str, Any]:
        """Describe the recipe as JSON-able data (specs and augmentation as dicts).

        Returns:
            A dict that :meth:`from_dict` turns back into an equal recipe.
        """
        return {
            "version": RECIPE_FORMAT_VERSION,
            "name": self.name,
            "description": self.description,
            "dataset": self.dataset,
            "specs": specs_to_list(self.specs),
            "train": self.train.to_dict(),
            "augment": [spec.to_dict() for spec in self.augment],
            "max_params": self.max_params,
            "eval_batch_size": self.eval_batch_size,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recipe:
        """Rebuild a recipe from :meth:`to_dict` output (or a hand-written JSON file).

        Args:
            data: The recipe's dict.

        Returns:
            The recipe.

        Raises:
            SpecError: For a wrong version, unknown or missing keys, or a bad spec,
                augmentation, dataset or training config; the message names which.
        """
        if not isinstance(data, Mapping):
            raise SpecError(f"a recipe must be a JSON object, got {type(data).__name__}")
        if data.get("version") != RECIPE_FORMAT_VERSION:
            raise SpecError(
                f"recipe format version {data.get('version')!r} is not supported; this "
                f"tinyconv reads version {RECIPE_FORMAT_VERSION}"
            )
        known = {field.name for field in dataclasses.fields(cls)} | {"version"}
        unknown = sorted(set(data) - known)
        missing = sorted({"name", "specs", "train"} - set(data))
        if unknown or missing:
            problem = f"unknown keys {unknown}" if unknown else f"missing keys {missing}"
            raise SpecError(f"recipe has {problem}; known keys: {', '.join(sorted(known))}")
        try:
            train = TrainConfig.from_dict(data["train"])
        except (TypeError, ValueError) as error:
            raise SpecError(f"recipe 'train': {error}") from error
        dataset = check_dataset_name(data.get("dataset", "mnist"))  # reads no data
        return cls(
            name=str(data["name"]),
            description=str(data.get("description", "")),
            dataset=dataset,
            specs=specs_from_list(data["specs"]),
            train=train,
            augment=tuple(augment_from_dict(item) for item in data.get("augment", ())),
            max_params=int(data.get("max_params", 8000)),
            eval_batch_size=int(data.get("eval_batch_size", 1000)),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the recipe as a JSON file (atomically).

        Args:
            path: Destination file.

        Returns:
            The path written.
        """
        from tinyconv.atomic import atomic_write

        text = json.dumps(self.to_dict(), indent=1) + "\n"
        return atomic_write(path, lambda handle: handle.write(text.encode()))


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
    """Train ``recipe`` once with ``seed``, scoring ``test_set`` after every epoch.

    With ``checkpoint_path`` the run is checkpointed after every epoch and, if the
    file exists, continued from it: a killed run ends with the same weights and
    metrics as an unbroken one.

    Args:
        recipe: What to train (its ``train.epochs`` is the number of epochs).
        seed: Seed for weights, shuffling, augmentation and dropout.
        train_set: Training images (all of them for a reproduction).
        test_set: Images scored after every epoch, for the record only.
        device: ``"auto"`` or a device string.
        progress: As :attr:`tinyconv.train.TrainConfig.progress`.
        checkpoint_path: Where to checkpoint (and resume from), or ``None``.

    Returns:
        A JSON-able result (seed, device, params, epochs, the numbers of training and
        test images, per-epoch history, the final and the best epoch's test accuracy —
        the best for information only —, the final training accuracy, the training
        wall time in seconds summed over epochs, and the epoch it resumed after), and
        the trained model.
    """
    model = recipe.build_model(seed=seed)
    config = dataclasses.replace(recipe.train, seed=seed, device=device, progress=progress)
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
    resumed = 0
    if checkpoint_path is not None and Path(checkpoint_path).exists():
        from tinyconv.train import load_checkpoint

        resumed = load_checkpoint(checkpoint_path).epoch
    history = fit(
        model,
        train_loader,
        config,
        eval_loader=test_loader,
        eval_name="test",
        checkpoint_path=checkpoint_path,
        resume=checkpoint_path is not None,
    )
    sizes = (len(train_set), len(test_set))
    result = _seed_result(seed, model, history, target, config.epochs, sizes, resumed)
    return result, model.cpu().eval()


def run_seeds_stacked(
    recipe: Recipe,
    seeds: Sequence[int],
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    device: str = "auto",
    progress: bool | None = None,
) -> list[tuple[dict[str, Any], TinyNet]]:
    """Train ``recipe`` for several seeds at once as one stacked network.

    Each seed keeps its own initial weights, shuffle, augmentation and dropout stream, so
    its result equals :func:`run_seed`'s to float noise (see
    :func:`tinyconv.train.fit_stacked`). There is no per-epoch checkpoint: an interrupted
    group starts again from epoch 1.

    Args:
        recipe: What to train.
        seeds: The seeds trained together.
        train_set: Training images.
        test_set: Images scored after every epoch, for the record only.
        device: ``"auto"`` or a device string.
        progress: As :attr:`tinyconv.train.TrainConfig.progress` (one line per epoch for
            the whole group).

    Returns:
        One ``(result, model)`` per seed, in order, as :func:`run_seed` returns them; the
        result also names the seeds trained together (``stacked_seeds``), since its
        ``wall_seconds`` is that of the whole group.
    """
    from tinyconv.train import fit_stacked

    seeds = list(seeds)
    models = [recipe.build_model(seed=seed) for seed in seeds]
    config = dataclasses.replace(recipe.train, seed=seeds[0], device=device, progress=progress)
    target = resolve_device(device)
    augment = recipe.augmentation()
    loaders = [
        TensorLoader(
            train_set, config.batch_size, shuffle=True, seed=s, device=target, augment=augment
        )
        for s in seeds
    ]
    test_loader = TensorLoader(test_set, recipe.eval_batch_size, device=target)
    histories = fit_stacked(
        models, loaders, config, eval_loader=test_loader, eval_name="test", seeds=seeds
    )
    runs = []
    for seed, model, history in zip(seeds, models, histories, strict=True):
        sizes = (len(train_set), len(test_set))
        result = _seed_result(seed, model, history, target, config.epochs, sizes, 0)
        result["stacked_seeds"] = seeds
        runs.append((result, model.cpu().eval()))
    return runs


def _seed_result(
    seed: int,
    model: TinyNet,
    history: History,
    target: torch.device,
    epochs: int,
    sizes: tuple[int, int],
    resumed: int,
) -> dict[str, Any]:
    """The JSON-able result of one trained seed (also tags ``model.metadata``)."""
    best = history.best("test_acc")
    model.metadata.update(seed=seed, final_test_acc=history.final.eval_acc)
    return {
        "seed": seed,
        "device": str(target),
        "device_name": torch.cuda.get_device_name(target) if target.type == "cuda" else "cpu",
        "torch_threads": torch.get_num_threads(),
        "params": count_parameters(model),
        "epochs": epochs,
        "train_samples": sizes[0],
        "test_samples": sizes[1],
        "final_test_acc": history.final.eval_acc,
        "final_train_acc": history.final.train_acc,
        "best_test_acc": best.eval_acc,
        "best_epoch": best.epoch,
        "wall_seconds": sum(record.seconds for record in history),
        "resumed_after_epoch": resumed,
        "history": history.to_list(),
    }
