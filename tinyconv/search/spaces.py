"""Search spaces: functions from an Optuna trial to a :class:`~tinyconv.Recipe`.

A space is any callable ``space(trial) -> Recipe`` that asks the trial for its choices
(``trial.suggest_int``, ``suggest_float``, ``suggest_categorical``) and returns the
recipe they describe. Because a recipe is data, a trial is rebuilt from its stored
parameters alone (:func:`~tinyconv.search.recipe_from_params`).

The ready spaces follow MNIST V5's skeleton (two 3x3 convs, a 1x1 transition with
max-pool, three 3x3 convs, an optional SE gate, a GAP head) and search the width of
every block, SE on or off and its bottleneck width, dropout, the learning rate and the
schedule (StepLR with its step and decay, or OneCycle). The model takes its image shape
and number of classes from the dataset (:func:`tinyconv.data.dataset_info`). ``mnist``
keeps V5's rotation; ``fashion_mnist`` adds horizontal flips; any other registered
dataset's name is a ready space too (:func:`dataset_space`), which also searches the
augmentation: none or a rotation of ±10° for one channel, none, crops or crops and flips
for colour images.

A space of your own is named ``package.module:function`` or ``path/to/file.py:function``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tinyconv.data import AugmentSpec, Crop, HorizontalFlip, Rotation, dataset_info, dataset_names
from tinyconv.recipe import Recipe
from tinyconv.search.errors import SpaceError
from tinyconv.specs import BlockSpec, ConvSpec, GAPHeadSpec, SESpec, TransitionSpec
from tinyconv.train import TrainConfig

if TYPE_CHECKING:
    import optuna

Space = Callable[["optuna.Trial"], Recipe]
"""A search space: a function from an Optuna trial to a recipe."""

__all__ = [
    "SPACES",
    "Space",
    "dataset_space",
    "fashion_mnist_space",
    "mnist_space",
    "resolve_space",
]

MIN_IMAGE_SIZE = 18
"""The smallest height and width the V5 skeleton fits (five 3x3 convs and a 2x2 pool)."""


def _v5_like(
    trial: optuna.Trial, *, name: str, dataset: str, augment: tuple[AugmentSpec, ...]
) -> Recipe:
    """The shared skeleton of the ready spaces (see the module docstring)."""
    info = dataset_info(dataset)
    _, height, width = info.image_shape
    if min(height, width) < MIN_IMAGE_SIZE:
        raise SpaceError(
            f"the ready spaces need images of at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE}, but "
            f"{dataset!r} has {height}x{width}; write a space for them "
            "('path/to/file.py:function')"
        )
    dropout = trial.suggest_categorical("dropout", [0.0, 0.02, 0.05, 0.1])
    specs: list[BlockSpec] = [
        ConvSpec(out_channels=trial.suggest_int("conv1", 4, 12, step=2), dropout=dropout),
        ConvSpec(out_channels=trial.suggest_int("conv2", 6, 16, step=2), dropout=dropout),
        TransitionSpec(out_channels=trial.suggest_int("trans1", 4, 12, step=2)),
        ConvSpec(out_channels=trial.suggest_int("conv3", 6, 16, step=2), dropout=dropout),
        ConvSpec(out_channels=trial.suggest_int("conv4", 6, 16, step=2), dropout=dropout),
        ConvSpec(out_channels=trial.suggest_int("conv5", 8, 20, step=2), dropout=dropout),
    ]
    if trial.suggest_categorical("se", [True, False]):
        specs.append(SESpec(rd_channels=trial.suggest_categorical("se_channels", [2, 3, 4])))
    specs.append(GAPHeadSpec(num_classes=len(info.class_names)))
    lr = trial.suggest_float("lr", 0.01, 0.3, log=True)
    if trial.suggest_categorical("schedule", ["step", "onecycle"]) == "step":
        train = TrainConfig(
            epochs=15,
            lr=lr,
            scheduler="step",
            step_size=trial.suggest_int("step_size", 4, 12),
            gamma=trial.suggest_float("gamma", 0.1, 0.5),
        )
    else:
        train = TrainConfig(
            epochs=15,
            lr=lr,
            scheduler="onecycle",
            max_lr=lr,
            pct_start=trial.suggest_float("pct_start", 0.1, 0.4),
            nesterov=True,
        )
    return Recipe(
        name=name,
        description=f"a trial of the ready '{name}' search space",
        dataset=dataset,
        specs=tuple(specs),
        train=train,
        augment=augment,
        max_params=8000,
    )


def mnist_space(trial: optuna.Trial) -> Recipe:
    """MNIST: V5's skeleton with every width, SE, dropout, lr and schedule searched.

    Args:
        trial: The Optuna trial that makes the choices.

    Returns:
        The trial's recipe (15 epochs, rotation ±10°, budget 8,000 unless overridden).

    Example:
        >>> import optuna
        >>> trial = optuna.trial.FixedTrial({
        ...     "dropout": 0.05, "conv1": 8, "conv2": 12, "trans1": 8, "conv3": 12,
        ...     "conv4": 16, "conv5": 16, "se": True, "se_channels": 4, "lr": 0.1,
        ...     "schedule": "step", "step_size": 9, "gamma": 0.18})
        >>> from tinyconv import count_parameters
        >>> count_parameters(mnist_space(trial).build_model(seed=0))  # V5's architecture
        6364
    """
    augment = (Rotation(degrees=10.0, fill=1 / 255),)
    return _v5_like(trial, name="mnist", dataset="mnist", augment=augment)


def fashion_mnist_space(trial: optuna.Trial) -> Recipe:
    """FashionMNIST: the MNIST space with horizontal flips added to the rotation.

    Args:
        trial: The Optuna trial that makes the choices.

    Returns:
        The trial's recipe.
    """
    augment = (Rotation(degrees=10.0, fill=1 / 255), HorizontalFlip(p=0.5))
    return _v5_like(trial, name="fashion_mnist", dataset="fashion_mnist", augment=augment)


def dataset_space(dataset: str) -> Space:
    """Return the ready space of any registered dataset: V5's skeleton, sized to its images.

    Besides the widths, SE, dropout, learning rate and schedule, the space chooses the
    augmentation (parameter ``augment``): ``none`` or ``rotation`` (±10°) for one-channel
    images; ``none``, ``crop`` (padding of an eighth of the side) or ``crop_flip`` (and
    horizontal flips) for several channels.

    Args:
        dataset: A registered dataset's name.

    Returns:
        The space; its recipes are named after the dataset.

    Example:
        >>> import optuna
        >>> trial = optuna.trial.FixedTrial({
        ...     "dropout": 0.0, "conv1": 8, "conv2": 12, "trans1": 8, "conv3": 12,
        ...     "conv4": 16, "conv5": 16, "se": False, "lr": 0.1, "schedule": "step",
        ...     "step_size": 9, "gamma": 0.18, "augment": "rotation"})
        >>> dataset_space("fashion_mnist")(trial).augment
        (Rotation(degrees=10.0, fill=0.0),)
    """

    def space(trial: optuna.Trial) -> Recipe:
        channels, height, width = dataset_info(dataset).image_shape
        if channels == 1:
            choice = trial.suggest_categorical("augment", ["none", "rotation"])
        else:
            choice = trial.suggest_categorical("augment", ["none", "crop", "crop_flip"])
        augment: tuple[AugmentSpec, ...] = ()
        if choice == "rotation":
            augment = (Rotation(degrees=10.0),)
        elif choice in ("crop", "crop_flip"):
            augment = (Crop(padding=max(1, min(height, width) // 8)),)
            augment += (HorizontalFlip(p=0.5),) if choice == "crop_flip" else ()
        return _v5_like(trial, name=dataset, dataset=dataset, augment=augment)

    space.__name__ = space.__qualname__ = f"dataset_space({dataset!r})"
    return space


SPACES: dict[str, Space] = {"mnist": mnist_space, "fashion_mnist": fashion_mnist_space}
"""The ready spaces by name (every other registered dataset's name also resolves to
:func:`dataset_space`)."""


def resolve_space(name: str) -> Space:
    """Return the space a name stands for.

    Args:
        name: A key of :data:`SPACES`, a registered dataset's name (its
            :func:`dataset_space`), ``"package.module:function"`` or
            ``"path/to/file.py:function"``.

    Returns:
        The space function.

    Raises:
        SpaceError: If the name is unknown, the module or file cannot be imported, or
            the function is missing or not callable.

    Example:
        >>> resolve_space("mnist") is mnist_space
        True
        >>> resolve_space("mnits")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.search.errors.SpaceError: unknown search space 'mnits'; use a registered dataset's name (...fashion_mnist, mnist...), 'package.module:function' or 'path/to/file.py:function'
    """  # noqa: E501
    if name in SPACES:
        return SPACES[name]
    if ":" not in name:
        if name in dataset_names():
            return dataset_space(name)
        raise SpaceError(
            f"unknown search space {name!r}; use a registered dataset's name "
            f"({', '.join(sorted(dataset_names()))}), 'package.module:function' or "
            "'path/to/file.py:function'"
        )
    where, function = name.rsplit(":", 1)
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise SpaceError(f"search space file {where!r} does not exist")
            spec = importlib.util.spec_from_file_location(f"tinyconv_space_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(where)
    except SpaceError:
        raise
    except Exception as error:  # any import-time failure of the user's module
        raise SpaceError(
            f"cannot import search space {name!r}: {type(error).__name__}: {error}"
        ) from error
    space = getattr(module, function, None)
    if not callable(space):
        raise SpaceError(f"search space {name!r}: {where} has no function {function!r}")
    return space
