"""Create or join the study that many workers share, and check it is the same search.

The first worker creates the study and stores its defining settings
(:meth:`~tinyconv.search.SearchSettings.identity`: space, directions, budget, epochs,
data, seeds, pruner) as the study's user attribute ``"tinyconv"``. Every later worker
joins by name and compares: a study of that name made by another search is refused
before anything is written to it (Optuna itself would silently keep the stored
direction).
"""

from __future__ import annotations

from collections import Counter

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from tinyconv.search.errors import StudyMismatchError
from tinyconv.search.settings import SearchSettings

__all__ = ["IDENTITY_ATTR", "make_pruner", "make_sampler", "open_study", "trial_counts"]

IDENTITY_ATTR = "tinyconv"
"""The study user attribute holding the search's defining settings."""


def make_sampler(settings: SearchSettings, worker_index: int = 0) -> optuna.samplers.BaseSampler:
    """Return a TPE sampler that tolerates parallel workers (``constant_liar``).

    Args:
        settings: The search settings (``sampler_seed``).
        worker_index: Added to the seed so workers do not propose the same trials.

    Returns:
        The sampler.
    """
    seed = None if settings.sampler_seed is None else settings.sampler_seed + worker_index
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True, n_startup_trials=8)


def make_pruner(settings: SearchSettings) -> optuna.pruners.BasePruner:
    """Return the pruner the settings name (none in multi-objective mode).

    Args:
        settings: The search settings.

    Returns:
        ``MedianPruner`` (after 4 complete trials), ``HyperbandPruner`` (resource:
        epochs) or ``NopPruner``. With either of the first two, a trial can be pruned
        only from a third of its epochs on
        (:func:`~tinyconv.search.objective.first_prunable_epoch`).
    """
    if settings.multi_objective or settings.pruner == "none":
        return optuna.pruners.NopPruner()
    if settings.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource="auto")
    return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0)


def _differences(stored: dict, wanted: dict) -> list[str]:
    keys = sorted(set(stored) | set(wanted))
    return [
        f"{key}={stored.get(key)!r} (this command: {wanted.get(key)!r})"
        for key in keys
        if stored.get(key) != wanted.get(key)
    ]


def open_study(
    settings: SearchSettings,
    storage: BaseStorage,
    *,
    worker_index: int = 0,
    create: bool = True,
) -> optuna.Study:
    """Create the study named by ``settings`` or join it, refusing another search's study.

    Args:
        settings: The search settings.
        storage: The shared storage (:func:`~tinyconv.search.open_storage`).
        worker_index: Offsets the sampler's seed.
        create: Create the study if it does not exist (else it must exist).

    Returns:
        The study, with this worker's sampler and the settings' pruner.

    Raises:
        StudyMismatchError: If a study of that name exists with another space,
            direction or defining setting; the message lists each difference.
    """
    name = settings.name
    wanted = settings.identity()
    existing = {summary.study_name: summary for summary in storage.get_all_studies()}
    if name in existing:
        stored_directions = [d.name.lower() for d in existing[name].directions]
        study = optuna.load_study(
            study_name=name,
            storage=storage,
            sampler=make_sampler(settings, worker_index),
            pruner=make_pruner(settings),
        )
        stored = study.user_attrs.get(IDENTITY_ATTR)
        if stored is None:
            stored = {"space": "(not a tinyconv search)", "directions": stored_directions}
        differences = _differences(stored, wanted)
        if differences:
            raise StudyMismatchError(
                f"study {name!r} already exists in this storage with other settings: "
                f"{'; '.join(differences)}; use the same settings to continue it, or "
                "choose another --study-name"
            )
        return study
    if not create:
        raise StudyMismatchError(f"no study named {name!r} in this storage")
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        directions=list(settings.directions),
        sampler=make_sampler(settings, worker_index),
        pruner=make_pruner(settings),
        load_if_exists=True,  # another worker may create it at the same moment
    )
    if study.user_attrs.get(IDENTITY_ATTR) is None:
        study.set_user_attr(IDENTITY_ATTR, wanted)
    return open_study(settings, storage, worker_index=worker_index, create=False)


def trial_counts(study: optuna.Study) -> Counter[TrialState]:
    """Count a study's trials by state.

    Args:
        study: The study.

    Returns:
        A counter keyed by :class:`optuna.trial.TrialState`.
    """
    return Counter(trial.state for trial in study.get_trials(deepcopy=False))
