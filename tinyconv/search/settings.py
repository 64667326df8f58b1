"""``SearchSettings``: everything one search command says, checked once, shared by workers.

Some settings define the search itself (the space, the objective's direction, the
budget, the epochs, the data each trial sees, the pruner): every worker that joins a
study must agree on them, so they are stored with the study and compared on joining
(:meth:`SearchSettings.identity`). The others (how many trials in total, where the
data lives, the device, threads, the sampler's seed) may differ between workers.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Literal

from tinyconv.search.errors import SettingsError

__all__ = ["PRUNERS", "SearchSettings"]

PRUNERS: tuple[str, ...] = ("median", "hyperband", "none")
"""Pruners of a single-objective search (multi-objective searches prune only on budget)."""


def _positive(name: str, value: int | None, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name} must be an int >= 1, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class SearchSettings:
    """The settings of one search, as the ``tinyconv search`` command takes them.

    Args:
        space: A ready space name (``"mnist"``), ``"package.module:function"`` or
            ``"path/to/file.py:function"`` (see :func:`~tinyconv.search.resolve_space`).
        out: Folder for the default journal storage and the exported recipe.
        trials: Finished trials (complete or pruned, over-budget ones included) the
            study should reach, counted over all workers.
        storage: ``None`` for ``<out>/search.journal``, or a storage URL (see
            :func:`~tinyconv.search.open_storage`).
        study_name: Study name; ``None`` takes the space's name.
        max_params: Parameter budget; ``None`` keeps the space's recipe budget.
        max_flash: Budget of the model's flash bytes on a Cortex-M4, estimated
            (:func:`~tinyconv.device_estimate.estimate_device`); ``None``: none.
        max_arena: Budget of TFLite Micro's tensor arena on a Cortex-M4, estimated;
            ``None``: none.
        epochs: Epochs per trial; ``None`` keeps the space's recipe epochs.
        train_subset: Train each trial on the first N images of the training part.
        val_size: Validation images carved from the training set (stratified).
        split_seed: Seed of the validation split (fixed for the whole study).
        multi_objective: Maximise validation accuracy and minimise parameters (a
            Pareto front) instead of maximising validation accuracy alone.
        pruner: ``"median"``, ``"hyperband"`` or ``"none"`` (single-objective only).
        seed: Weight, shuffling and augmentation seed of every trial.
        sampler_seed: Seed of the sampler (worker ``i`` adds ``i``); ``None``: random.
        data_dir: Dataset root (default ``$TINYCONV_DATA``, else ``./data``).
        device: Training device of every trial.
        threads: Torch CPU threads of each worker; ``None`` leaves torch's default.
        time_limit_s: Wall-clock seconds after which a worker starts no new trial (counted
            from the worker's start; a running trial finishes). ``None``: no limit. Not part
            of the study's identity: each command may give its own.

    Raises:
        SettingsError: For a value out of range.

    Example:
        >>> settings = SearchSettings(space="mnist", out="runs/s", trials=8, epochs=2)
        >>> settings.name, settings.directions
        ('mnist', ('maximize',))
        >>> SearchSettings(space="mnist", out="x", trials=0)
        Traceback (most recent call last):
        ...
        tinyconv.search.errors.SettingsError: trials must be an int >= 1, got 0
    """

    space: str
    out: str
    trials: int
    storage: str | None = None
    study_name: str | None = None
    max_params: int | None = None
    max_flash: int | None = None
    max_arena: int | None = None
    epochs: int | None = None
    train_subset: int | None = None
    val_size: int = 5000
    split_seed: int = 0
    multi_objective: bool = False
    pruner: Literal["median", "hyperband", "none"] = "median"
    seed: int = 0
    sampler_seed: int | None = None
    data_dir: str | None = None
    device: str = "cpu"
    threads: int | None = None
    time_limit_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.space, str) or not self.space:
            raise SettingsError(f"space must be a non-empty string, got {self.space!r}")
        _positive("trials", self.trials, optional=False)
        for name in ("max_params", "max_flash", "max_arena", "epochs", "train_subset", "threads"):
            _positive(name, getattr(self, name))
        _positive("val_size", self.val_size, optional=False)
        limit = self.time_limit_s
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int | float) or not limit > 0
        ):
            raise SettingsError(f"time_limit_s must be a number > 0 (seconds), got {limit!r}")
        if self.pruner not in PRUNERS:
            raise SettingsError(f"pruner must be one of {', '.join(PRUNERS)}, got {self.pruner!r}")
        if self.study_name is not None and not self.study_name.strip():
            raise SettingsError("study_name must not be empty")

    @property
    def name(self) -> str:
        """The study name: ``study_name``, else one made from the space."""
        if self.study_name is not None:
            return self.study_name
        tail = self.space.rsplit(":", 1)[-1] if ":" in self.space else self.space
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", tail)

    @property
    def directions(self) -> tuple[str, ...]:
        """Optuna directions: accuracy up, and parameters down in multi-objective mode."""
        return ("maximize", "minimize") if self.multi_objective else ("maximize",)

    def identity(self) -> dict[str, Any]:
        """Return the settings every worker of one study must share, as JSON-able data.

        Returns:
            Space, directions, budget, epochs, data, seeds of the data and weights, pruner.
        """
        return {
            "space": self.space,
            "directions": list(self.directions),
            "max_params": self.max_params,
            "epochs": self.epochs,
            "train_subset": self.train_subset,
            "val_size": self.val_size,
            "split_seed": self.split_seed,
            "seed": self.seed,
            "pruner": "none" if self.multi_objective else self.pruner,
            # device budgets only when set: studies begun before they existed still match
            **{
                name: value
                for name, value in (("max_flash", self.max_flash), ("max_arena", self.max_arena))
                if value is not None
            },
        }

    def replace(self, **changes: Any) -> SearchSettings:
        """Return a copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)
