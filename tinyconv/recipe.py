"""``Recipe``: everything that defines one training experiment, as data.

A recipe names its dataset (from the registry in :mod:`tinyconv.data`), the model
(its block specs), a training configuration, the augmentation (as specs) and the
parameter budget. It round-trips through JSON (:meth:`Recipe.to_dict`,
:meth:`Recipe.from_dict`), so a results file, a search trial or a file a user
writes can rebuild it. :meth:`Recipe.with_epochs` is the one place a run's length is
changed (its schedule follows). Training a recipe is :func:`tinyconv.experiment.train_recipe`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tinyconv.data import AugmentSpec, dataset_info
from tinyconv.data.augment_specs import augment_from_dict, make_augmentation
from tinyconv.data.registry import check_dataset_name
from tinyconv.distillation_spec import DistillationSpec
from tinyconv.errors import ModelInputError, SpecError
from tinyconv.model import TinyNet, build, minimum_input_size
from tinyconv.parameters import check_budget
from tinyconv.specs import BlockSpec, specs_from_list, specs_to_list
from tinyconv.train.config import TrainConfig

RECIPE_FORMAT_VERSION = 2
"""Version of the dict layout of :meth:`Recipe.to_dict`. Version 2 made hash dropout masks
the default; a version-1 recipe without ``train.dropout_masks`` drew torch's masks, and
reads back so."""
READABLE_VERSIONS = (1, 2)
"""The versions :meth:`Recipe.from_dict` reads."""


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
        distill: A teacher to distil from (:class:`tinyconv.compress.DistillationSpec`:
            its model file, the term's weight and temperature); ``None`` for none.

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
    distill: DistillationSpec | None = None

    def build_model(self, seed: int | None = None) -> TinyNet:
        """Build a fresh model for the recipe's dataset and check it against the budget.

        Args:
            seed: Seed for the initial weights (see :func:`tinyconv.build`).

        Returns:
            The model, knowing its dataset, class names and normalisation.

        Raises:
            BudgetExceededError: If the model has more than ``max_params`` parameters.
            ModelInputError: If the dataset's images are smaller than the specs can take
                (the message names the smallest size that fits).
            ValueError: If the specs do not fit the dataset's images or classes otherwise.
        """
        info = dataset_info(self.dataset)
        channels, height, width = info.image_shape
        try:
            model = build(
                self.specs,
                in_channels=channels,
                input_size=(height, width),
                num_classes=len(info.class_names),
                seed=seed,
            )
        except ValueError as error:
            side = minimum_input_size(self.specs, in_channels=channels)
            if side is None or min(height, width) >= side:
                raise
            raise ModelInputError(
                f"recipe {self.name} needs images of at least {side}x{side} pixels, but the "
                f"{self.dataset} images are {height}x{width} ({error}); choose a recipe with "
                "fewer downsampling or smaller kernels, or resize the images"
            ) from None
        check_budget(model, self.max_params)
        model.dataset = self.dataset
        model.class_names = info.class_names
        model.normalization = info.normalization
        model.metadata = {"recipe": self.name}
        return model

    def with_epochs(self, epochs: int | None) -> Recipe:
        """Return this recipe trained for ``epochs`` epochs, its schedule scaled to match.

        The one place a run's length changes (``tinyconv study --epochs``, a search's
        ``--epochs``): StepLR's ``step_size`` scales with the epochs (at least 1), so a
        shortened run still decays its learning rate as often; OneCycle spans whatever the
        run's length is.

        Args:
            epochs: The new number of epochs; ``None`` or the recipe's own keeps it as is.

        Returns:
            The recipe to train.

        Raises:
            ValueError: If ``epochs`` is below 1.

        Example:
            >>> from tinyconv.recipes import get_recipe
            >>> short = get_recipe("mnist_v5").with_epochs(5)
            >>> short.train.epochs, short.train.step_size
            (5, 3)
        """
        if epochs is None or epochs == self.train.epochs:
            return self
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
        step = max(1, round(self.train.step_size * epochs / self.train.epochs))
        train = dataclasses.replace(self.train, epochs=epochs, step_size=step)
        return dataclasses.replace(self, train=train)

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
            **({} if self.distill is None else {"distill": self.distill.to_dict()}),
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
        if data.get("version") not in READABLE_VERSIONS:
            raise SpecError(
                f"recipe format version {data.get('version')!r} is not supported; this "
                f"tinyconv reads versions {', '.join(map(str, READABLE_VERSIONS))}"
            )
        known = {field.name for field in dataclasses.fields(cls)} | {"version"}
        unknown = sorted(set(data) - known)
        missing = sorted({"name", "specs", "train"} - set(data))
        if unknown or missing:
            problem = f"unknown keys {unknown}" if unknown else f"missing keys {missing}"
            raise SpecError(f"recipe has {problem}; known keys: {', '.join(sorted(known))}")
        train_dict = data["train"]
        if data["version"] == 1 and isinstance(train_dict, Mapping):
            # version 1 predates the hash masks' default: its runs drew torch's masks
            train_dict = {"dropout_masks": "torch", **train_dict}
        try:
            train = TrainConfig.from_dict(train_dict)
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
            distill=None
            if data.get("distill") is None
            else DistillationSpec.from_dict(data["distill"]),
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
