"""Small search spaces for the tests, named as 'path/to/this/file.py:function'."""

from __future__ import annotations

from tinyconv import ConvSpec, GAPHeadSpec, TransitionSpec
from tinyconv.recipe import Recipe
from tinyconv.train import TrainConfig


def tiny(trial):
    """Three small blocks, about 300-900 params, fast on 1,000 images."""
    return Recipe(
        name="tiny",
        dataset="mnist",
        specs=(
            ConvSpec(out_channels=trial.suggest_int("c1", 4, 8, step=2), stride=2),
            TransitionSpec(out_channels=4),
            ConvSpec(out_channels=trial.suggest_int("c2", 6, 12, step=2)),
            GAPHeadSpec(num_classes=10),
        ),
        train=TrainConfig(
            epochs=2, batch_size=100, lr=trial.suggest_float("lr", 0.02, 0.3, log=True)
        ),
        max_params=4000,
    )


def mostly_over_budget(trial):
    """Two convs of one width: within a 600-param budget only for the narrowest widths."""
    width = trial.suggest_int("width", 2, 64)
    return Recipe(
        name="wide",
        dataset="mnist",
        specs=(
            ConvSpec(out_channels=width, stride=2),
            ConvSpec(out_channels=width, stride=2),
            GAPHeadSpec(num_classes=10),
        ),
        train=TrainConfig(epochs=1, batch_size=100),
        max_params=600,
    )


def kernel_too_big(trial):
    """A spec that cannot be built: a 31x31 kernel on a 28x28 image."""
    trial.suggest_int("c1", 4, 8)
    return Recipe(
        name="bad",
        specs=(ConvSpec(out_channels=4, kernel_size=31), GAPHeadSpec(num_classes=10)),
        train=TrainConfig(epochs=1),
    )


def not_a_recipe(trial):
    """Returns specs instead of a recipe."""
    return (ConvSpec(out_channels=trial.suggest_int("c1", 4, 8)), GAPHeadSpec(num_classes=10))
