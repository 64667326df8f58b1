"""Ready recipes inside the package: MNIST versions, variants, FashionMNIST, teachers, frontier.

Each module defines its recipes as short diffs of the one before (``dataclasses.replace``),
so the table of changes reads top to bottom. :data:`RECIPES` maps every name to its recipe;
:func:`get_recipe` also reads a recipe JSON file written by :meth:`Recipe.save`, and
:func:`recipe_for_dataset` moves any recipe onto another registered dataset (its images'
shape and channels, its classes).

Example:
    >>> from tinyconv.recipes import RECIPES
    >>> RECIPES["mnist_v5"].build_model(seed=0).num_classes
    10
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from tinyconv.errors import SpecError
from tinyconv.recipe import Recipe
from tinyconv.recipes import fashion, frontier, mnist, teachers

RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for module in (mnist, fashion, teachers, frontier)
    for recipe in module.RECIPES
}
"""Every ready recipe by name."""

__all__ = ["RECIPES", "get_recipe", "recipe_for_dataset", "recipe_of_model"]


def get_recipe(name_or_path: str | os.PathLike[str]) -> Recipe:
    """Return a ready recipe by name, or read one from a JSON file.

    Args:
        name_or_path: A key of :data:`RECIPES` (``"mnist_v5"``); a ready recipe's name
            followed by a registered dataset's, as a study names a recipe moved onto
            that dataset (``"mnist_v5_fashion_mnist"``, :func:`recipe_for_dataset`); a
            recipe ``.json`` path, or a study's results file (the recipe it ran).

    Returns:
        The recipe.

    Raises:
        SpecError: For an unknown name (listing the known ones) or a malformed file.
        FileNotFoundError: For a path that does not exist.

    Example:
        >>> get_recipe("mnist_v5_fashion_mnist").dataset
        'fashion_mnist'
        >>> get_recipe("mnist_v9")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.errors.SpecError: unknown recipe 'mnist_v9'; give a recipe JSON file or one of: fashion_separable, ..., mnist_wide_smooth
    """  # noqa: E501
    text = str(name_or_path)
    if text in RECIPES:
        return RECIPES[text]
    moved = _moved_recipe(text)
    if moved is not None:
        return moved
    path = Path(text)
    if path.suffix != ".json" and not path.exists():
        known = ", ".join(sorted(RECIPES))
        raise SpecError(f"unknown recipe {text!r}; give a recipe JSON file or one of: {known}")
    if not path.is_file():
        raise FileNotFoundError(f"no recipe file at {text!r}; check the path")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SpecError(f"{text} is not valid JSON: {error}") from error
    from tinyconv.study.results import RESULTS_FORMAT  # reads no data

    if isinstance(data, dict) and data.get("format") == RESULTS_FORMAT:
        data = data.get("recipe")  # a study's results file holds the recipe it ran
    if not isinstance(data, dict):
        raise SpecError(f"{text} holds no recipe; give a recipe JSON file or a results file")
    return Recipe.from_dict(data)


def _moved_recipe(name: str) -> Recipe | None:
    """``mnist_v5_digits``: a ready recipe moved onto a registered dataset, as a study names it."""
    from tinyconv.data import dataset_names

    datasets = dataset_names()
    for ready in sorted(RECIPES, key=len, reverse=True):
        dataset = name.removeprefix(f"{ready}_")
        if name.startswith(f"{ready}_") and dataset in datasets:
            return recipe_for_dataset(RECIPES[ready], dataset)
    return None


def recipe_for_dataset(recipe: Recipe, dataset: str) -> Recipe:
    """Return ``recipe`` for another registered dataset: same blocks, training and augmentation.

    The model is built for the dataset's image shape and channels (a recipe's specs do not
    fix them), its head gets one logit per class of the dataset, and the recipe is named
    ``<recipe>_<dataset>`` so its results stay apart from the original's. The budget is
    checked when the model is built: more input channels or classes add parameters.

    Args:
        recipe: The recipe to move, e.g. ``RECIPES["mnist_v5"]``.
        dataset: A registered dataset's name.

    Returns:
        The recipe on ``dataset`` (``recipe`` itself if it already names it).

    Raises:
        DatasetRegistryError: If ``dataset`` is not registered.
        SpecError: If the recipe's last spec has no ``num_classes`` (no head).

    Example:
        >>> moved = recipe_for_dataset(RECIPES["mnist_v5"], "fashion_mnist")
        >>> moved.name, moved.dataset, moved.specs[-1].num_classes
        ('mnist_v5_fashion_mnist', 'fashion_mnist', 10)
    """
    from tinyconv.data import dataset_info

    if dataset == recipe.dataset:
        return recipe
    info = dataset_info(dataset)
    head = recipe.specs[-1]
    if not hasattr(head, "num_classes"):
        raise SpecError(
            f"recipe {recipe.name!r} ends in {type(head).__name__}, not a head with "
            "num_classes; end it in a GAPHeadSpec or ConvHeadSpec"
        )
    return dataclasses.replace(
        recipe,
        name=f"{recipe.name}_{dataset}",
        description=f"{recipe.description} (on {info.display_name})".strip(),
        dataset=dataset,
        specs=(*recipe.specs[:-1], dataclasses.replace(head, num_classes=len(info.class_names))),
    )


def recipe_of_model(
    model: Any, override: str | os.PathLike[str] | Recipe | None = None, *, label: str = "the model"
) -> Recipe:
    """Return the recipe that trains ``model``: ``override`` if given, else the one it records.

    The one lookup every command that fine-tunes a model file uses (``prune``,
    quantization-aware ``export``). The recipe is moved onto the model's dataset when it
    names another (:func:`recipe_for_dataset`): only its training and augmentation are
    used, never its specs.

    Args:
        model: A model read by :func:`tinyconv.load` (``metadata["recipe"]``, ``dataset``).
        override: A recipe, a ready recipe's name, a recipe JSON or a results file
            (``--recipe``).
        label: How to call the model in messages (its path).

    Returns:
        The recipe, on the model's dataset.

    Raises:
        SpecError: If the model records no recipe and none is given, or the name is
            unknown.

    Example:
        >>> from tinyconv import GAPHeadSpec, build
        >>> net = build([GAPHeadSpec(num_classes=10)])
        >>> net.metadata, net.dataset = {"recipe": "mnist_v5"}, "fashion_mnist"
        >>> recipe_of_model(net).name
        'mnist_v5_fashion_mnist'
    """
    chosen = override
    if chosen is None:
        chosen = (getattr(model, "metadata", None) or {}).get("recipe")
        if not isinstance(chosen, str):
            raise SpecError(
                f"{label} does not record the recipe it was trained with; pass one with "
                "--recipe NAME_OR_JSON (a ready recipe such as mnist_v5, a recipe JSON or a "
                "study's results file)"
            )
    recipe = chosen if isinstance(chosen, Recipe) else get_recipe(chosen)
    dataset = getattr(model, "dataset", None)
    return recipe if dataset is None else recipe_for_dataset(recipe, dataset)
