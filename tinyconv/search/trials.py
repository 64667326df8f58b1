"""From a finished search to a recipe JSON that ``tinyconv study`` re-scores on test.

The search chose by validation accuracy; the exported recipe is then trained from
scratch on the full training set for several seeds and scored on the test set once,
final epoch — the same protocol as the MNIST versions::

    tinyconv search-best runs/mnist4k --out mnist4k_best.json
    tinyconv study mnist4k_best.json --seeds 5

A trial is rebuilt from its stored parameters (the space is asked again with an
``optuna.trial.FixedTrial``) and checked against the recipe the trial recorded when
it trained, so an exported recipe is exactly what was searched.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from tinyconv.recipe import Recipe
from tinyconv.search.errors import NoTrialError, SpaceError, UnknownStorageError
from tinyconv.search.objective import apply_settings, recipe_from_trial
from tinyconv.search.settings import SearchSettings
from tinyconv.search.shared_study import IDENTITY_ATTR
from tinyconv.search.spaces import resolve_space
from tinyconv.search.storage import DEFAULT_JOURNAL, open_storage

__all__ = [
    "choose_trial",
    "export_recipe",
    "load_search",
    "pareto_front",
    "recipe_from_params",
    "trial_recipe",
]


def load_search(where: str | os.PathLike[str], study_name: str | None = None) -> optuna.Study:
    """Open a finished (or running) search study.

    Args:
        where: A search's output folder (its ``search.journal``), or a storage URL.
        study_name: The study; may be left out when the storage holds only one.

    Returns:
        The study.

    Raises:
        UnknownStorageError: If ``where`` is neither a search folder nor a storage URL.
        NoTrialError: If the study is not there, or the storage holds several and none
            was named.
    """
    text = str(where)
    folder = Path(text)
    if folder.is_dir():
        if not (folder / DEFAULT_JOURNAL).is_file():
            raise UnknownStorageError(
                f"{text} has no {DEFAULT_JOURNAL}; give a search's --out folder or its "
                "--storage URL"
            )
        storage = open_storage(None, folder)
    else:
        if "://" not in text and not text.startswith("journal:") and not folder.is_file():
            raise UnknownStorageError(f"no search folder or storage at {text!r}")
        storage = open_storage(text, ".")
    names = [summary.study_name for summary in storage.get_all_studies()]
    if study_name is None:
        if len(names) != 1:
            raise NoTrialError(
                f"the storage holds {len(names)} studies ({', '.join(names) or 'none'}); "
                "name one with --study-name"
            )
        study_name = names[0]
    if study_name not in names:
        raise NoTrialError(
            f"no study {study_name!r} in this storage; it holds: {', '.join(names) or 'none'}"
        )
    return optuna.load_study(study_name=study_name, storage=storage)


def pareto_front(study: optuna.Study) -> list[FrozenTrial]:
    """Return the Pareto-optimal trials (accuracy up, parameters down), best accuracy first.

    Args:
        study: A multi-objective search study.

    Returns:
        The front, sorted by accuracy (descending) then parameters.
    """
    return sorted(study.best_trials, key=lambda t: (-t.values[0], t.values[1]))


def choose_trial(study: optuna.Study, number: int | None = None) -> FrozenTrial:
    """Return trial ``number``, or the best one.

    Args:
        study: A search study.
        number: A COMPLETE trial's number; ``None`` takes the best trial (the highest
            validation accuracy; in a multi-objective study, the most accurate point of
            the Pareto front).

    Returns:
        The trial.

    Raises:
        NoTrialError: If there is no complete trial, or ``number`` is not one.
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise NoTrialError(f"study {study.study_name!r} has no complete trial yet")
    if number is not None:
        for trial in complete:
            if trial.number == number:
                return trial
        states = {t.number: t.state.name for t in study.get_trials(deepcopy=False)}
        raise NoTrialError(
            f"trial {number} of study {study.study_name!r} is "
            f"{states.get(number, 'not there')}, not COMPLETE; complete trials: "
            f"{', '.join(str(t.number) for t in complete)}"
        )
    if len(study.directions) > 1:
        return pareto_front(study)[0]
    return study.best_trial


def recipe_from_params(
    space: str, params: Mapping[str, Any], identity: Mapping[str, Any]
) -> Recipe:
    """Rebuild a trial's recipe from its stored parameters alone.

    Args:
        space: The space name the study was searched with.
        params: The trial's parameters (``trial.params``).
        identity: The study's stored settings (budget and epochs are applied).

    Returns:
        The recipe the trial trained.

    Raises:
        SpaceError: If the space cannot be found or fails on these parameters.

    Example:
        >>> params = {"dropout": 0.0, "conv1": 4, "conv2": 6, "trans1": 4, "conv3": 6,
        ...           "conv4": 6, "conv5": 8, "se": False, "lr": 0.05,
        ...           "schedule": "onecycle", "pct_start": 0.2}
        >>> recipe = recipe_from_params("mnist", params, {"max_params": 4000, "epochs": 2})
        >>> recipe.max_params, recipe.train.epochs, recipe.train.scheduler
        (4000, 2, 'onecycle')
    """
    trial = optuna.trial.FixedTrial(dict(params))
    recipe = recipe_from_trial(resolve_space(space), trial, space)
    settings = SearchSettings(
        space=space,
        out=".",
        trials=1,
        max_params=identity.get("max_params"),
        epochs=identity.get("epochs"),
    )
    return apply_settings(recipe, settings)


def trial_recipe(study: optuna.Study, trial: FrozenTrial) -> Recipe:
    """Return the recipe of ``trial``, rebuilt from its parameters and checked.

    Args:
        study: The search study.
        trial: One of its COMPLETE trials.

    Returns:
        The recipe, named ``<study>_trial<N>`` and described by its validation score.

    Raises:
        SpaceError: If the space, asked again, yields another recipe than the one the
            trial trained (the space changed since the search).
    """
    identity = study.user_attrs.get(IDENTITY_ATTR, {})
    stored = trial.user_attrs.get("recipe")
    try:
        recipe = recipe_from_params(identity.get("space", ""), trial.params, identity)
    except SpaceError:
        if stored is None:
            raise
        recipe = Recipe.from_dict(stored)  # the space moved; the trained recipe is on record
    else:
        if stored is not None and Recipe.from_dict(stored) != recipe:
            raise SpaceError(
                f"search space {identity.get('space')!r} now yields another recipe for trial "
                f"{trial.number} than the one it trained; the space changed since the search"
            )
    params = trial.user_attrs.get("params")
    description = (
        f"trial {trial.number} of search {study.study_name!r}: validation accuracy "
        f"{100 * trial.values[0]:.2f} % on {identity.get('val_size', '?')} held-out "
        f"training images, {params} params"
    )
    return dataclasses.replace(
        recipe, name=f"{study.study_name}_trial{trial.number}", description=description
    )


def export_recipe(
    where: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    study_name: str | None = None,
    trial: int | None = None,
) -> tuple[Path, FrozenTrial, Recipe]:
    """Write the best trial's (or trial ``trial``'s) recipe as JSON.

    Args:
        where: The search's output folder, or its storage URL.
        out: The recipe JSON file to write.
        study_name: The study (may be left out if the storage holds one).
        trial: A COMPLETE trial's number; ``None`` for the best.

    Returns:
        The file written, the trial, and its recipe.

    Raises:
        NoTrialError: No such study or trial.
        SpaceError: The space changed since the search.
        UnknownStorageError: ``where`` is not a search folder or storage.
    """
    study = load_search(where, study_name)
    chosen = choose_trial(study, trial)
    recipe = trial_recipe(study, chosen)
    return recipe.save(out), chosen, recipe
