"""What a search checks before it writes anything, so a refused search leaves no journal.

:func:`check_search` runs before the storage is opened: the storage URL is of a kind it
can open; the output folder (and a journal file's folder) can be written; the space
resolves; some model of it meets the budget
(:func:`~tinyconv.search.objective.check_budget_reachable`); it gives a recipe for a
first trial (drawn in a throwaway in-memory study); and that recipe's training data
loads, split and cut as every trial will have it (:meth:`Objective.data
<tinyconv.search.objective.Objective.data>`). So ``tinyconv search mnst``, a wrong
``--data-dir``, a ``--train-subset`` larger than the data or a read-only ``--out`` fails
with one error line and no ``search.journal`` behind it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import optuna

from tinyconv.errors import OutputPathError
from tinyconv.outputs import check_writable_folder
from tinyconv.search.objective import (
    Objective,
    apply_settings,
    check_budget_reachable,
    recipe_from_trial,
)
from tinyconv.search.settings import SearchSettings
from tinyconv.search.spaces import resolve_space
from tinyconv.search.storage import check_storage_url, journal_path

__all__ = ["check_search"]


def _check_folders(settings: SearchSettings) -> None:
    check_storage_url(settings.storage)
    out = Path(settings.out)
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"--out {settings.out!r} is a file; give a folder for the search")
    journal = journal_path(settings.storage, settings.out)
    if journal is None:
        return
    flag = "--out" if settings.storage is None else "--storage"
    if journal.is_dir():
        raise OutputPathError(f"the search journal {str(journal)!r} is a folder; fix {flag}")
    if not journal.exists():
        check_writable_folder(journal.parent, flag=flag)


def check_search(settings: SearchSettings) -> None:
    """Refuse, before any storage exists, a search that would fail at its first trial.

    Args:
        settings: The search settings.

    Raises:
        UnknownStorageError: If the storage URL is of no known kind.
        OutputPathError: If the output folder or the journal's folder cannot be written.
        SpaceError: If the space is unknown or fails to give a recipe.
        SettingsError: If no model of the space meets the budget.
        SplitError: If ``val_size`` or ``train_subset`` do not fit the data.
        DatasetNotFoundError: If the recipe's training files are not found.
        DatasetRegistryError: If the recipe names a dataset that is not registered.

    Example:
        >>> check_search(SearchSettings(space="mnst", out="runs/s", trials=1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.search.errors.SpaceError: unknown search space 'mnst'; use a registered dataset's name (...mnist), 'package.module:function' or 'path/to/file.py:function'
    """  # noqa: E501
    _check_folders(settings)
    space = resolve_space(settings.space)
    with _quiet_optuna():  # no "A new study created in memory" lines
        check_budget_reachable(settings, space)  # before the data: an impossible budget first
        study = optuna.create_study(
            directions=list(settings.directions), sampler=optuna.samplers.RandomSampler(seed=0)
        )
    try:
        recipe = recipe_from_trial(space, study.ask(), settings.space)
    except optuna.TrialPruned:  # the space itself ends this draw; its trials will say more
        return
    Objective(settings, space=space).data(apply_settings(recipe, settings).dataset)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)
