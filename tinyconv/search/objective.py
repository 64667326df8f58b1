"""The objective: budget first, then training scored on a seeded validation split.

For each trial, :class:`Objective`:

1. records its worker (:func:`~tinyconv.search.worker_identity`) and steps aside if the
   study already has its trials (a race between workers; the trial ends FAIL marked
   ``surplus`` and is never trained);
2. asks the space for the trial's recipe and applies the search's budget and epochs;
3. builds the model and checks the budget: an over-budget trial ends PRUNED at once
   (user attributes ``over_budget`` and ``params``) with no data loaded and no training,
   in milliseconds;
4. trains on the training part of a stratified split carved from the *training* set
   with a fixed seed, scores the validation part after every epoch and, in a
   single-objective study, reports it to Optuna so the pruner can stop a weak trial.

The test set is never loaded here. The value is the final epoch's validation accuracy
(and, in multi-objective mode, the parameter count).

The module is a little over 300 lines: the trial's whole life (budget, data, training,
pruning, the value) is kept in one place.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import optuna

from tinyconv.data import ImageDataset, load_dataset
from tinyconv.data.split import ValidationSplit
from tinyconv.errors import TinyconvError
from tinyconv.experiment import train_recipe
from tinyconv.parameters import BudgetExceededError, check_budget, count_parameters
from tinyconv.recipe import Recipe
from tinyconv.search.errors import SettingsError, SpaceError
from tinyconv.search.liveness import worker_identity
from tinyconv.search.settings import SearchSettings
from tinyconv.search.spaces import Space, resolve_space
from tinyconv.train import Callback, TrainState

__all__ = ["Objective", "SurplusTrialError", "apply_settings", "recipe_from_trial"]


class SurplusTrialError(Exception):
    """A trial started after the study already had its trials; it is not trained."""


def apply_settings(recipe: Recipe, settings: SearchSettings) -> Recipe:
    """Give a space's recipe the search's budget and epochs.

    A changed number of epochs goes through :meth:`~tinyconv.recipe.Recipe.with_epochs`,
    the one place that rescales a schedule, as ``tinyconv study --epochs`` does.

    Args:
        recipe: The recipe a space returned.
        settings: The search settings (``max_params``, ``epochs``).

    Returns:
        The recipe to train.

    Example:
        >>> from tinyconv.recipes import get_recipe
        >>> settings = SearchSettings(space="mnist", out="x", trials=1, epochs=5)
        >>> recipe = apply_settings(get_recipe("mnist_v5"), settings)
        >>> recipe.train.epochs, recipe.train.step_size
        (5, 3)
    """
    if settings.max_params is not None:
        recipe = dataclasses.replace(recipe, max_params=settings.max_params)
    return recipe.with_epochs(settings.epochs)


def recipe_from_trial(space: Space, trial: optuna.trial.BaseTrial, space_name: str) -> Recipe:
    """Ask ``space`` for the recipe of ``trial``, turning any failure into a clear error.

    Args:
        space: The space function.
        trial: A live trial, or an ``optuna.trial.FixedTrial`` of stored parameters.
        space_name: The space's name, for messages.

    Returns:
        The recipe.

    Raises:
        SpaceError: If the space raises or returns something other than a recipe.
    """
    try:
        recipe = space(trial)
    except optuna.TrialPruned:
        raise
    except (TinyconvError, ValueError, TypeError, KeyError) as error:
        raise SpaceError(
            f"search space {space_name!r} failed for parameters {trial.params}: "
            f"{type(error).__name__}: {error}"
        ) from error
    if not isinstance(recipe, Recipe):
        raise SpaceError(
            f"search space {space_name!r} returned {type(recipe).__name__}, not a tinyconv.Recipe"
        )
    return recipe


BUDGET_PROBES = 200
"""Random points of a space whose models :func:`check_budget_reachable` builds and counts."""


def check_budget_reachable(settings: SearchSettings, space: Space | None = None) -> int:
    """Refuse a budget that no model of the space meets, before any trial or storage.

    Builds the models of :data:`BUDGET_PROBES` random points of the space (an in-memory
    Optuna study with a seeded random sampler; no data, no training: about a second) and
    counts their parameters; with a device budget (``max_flash``, ``max_arena``) it also
    estimates their Cortex-M4 costs (:func:`~tinyconv.device_estimate.estimate_device`,
    a few seconds more).

    Args:
        settings: The search settings (``space``, ``max_params``).
        space: The space function; ``None`` resolves ``settings.space``.

    Returns:
        The fewest parameters among the probed models.

    Raises:
        SettingsError: If every probed model is over ``settings.max_params`` (or over a
            device budget); the message gives the smallest count found and the fix.
        SpaceError: If the space fails.

    Example:
        >>> settings = SearchSettings(space="mnist", out="x", trials=1, max_params=10)
        >>> check_budget_reachable(settings)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.search.errors.SettingsError: no model of space 'mnist' meets the budget of 10 parameters: the smallest of 200 sampled has ...
    """  # noqa: E501
    space = space or resolve_space(settings.space)
    probe = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    smallest = None
    device_budgets = {"flash bytes": settings.max_flash, "arena bytes": settings.max_arena}
    least: dict[str, int] = {}
    for _ in range(BUDGET_PROBES):
        trial = probe.ask()
        recipe = recipe_from_trial(space, trial, settings.space)
        model = None
        try:
            model = recipe.build_model(seed=0)
            params = count_parameters(model)
        except BudgetExceededError as error:
            params = error.total
        except (TinyconvError, ValueError):
            params = None  # a point the space cannot build: the search reports it itself
        probe.tell(trial, 0.0)
        if params is not None and (smallest is None or params < smallest):
            smallest = params
        if model is not None and any(v is not None for v in device_budgets.values()):
            _least_device_costs(model, least)
    budget = settings.max_params
    if budget is not None and smallest is not None and smallest > budget:
        raise SettingsError(
            f"no model of space {settings.space!r} meets the budget of {budget:,} parameters: "
            f"the smallest of {BUDGET_PROBES} sampled has {smallest:,}; raise --max-params "
            "or search a space of smaller models"
        )
    for unit, option in (("flash bytes", "--max-flash"), ("arena bytes", "--max-arena")):
        budget = device_budgets[unit]
        if budget is not None and unit in least and least[unit] > budget:
            raise SettingsError(
                f"no model of space {settings.space!r} meets the budget of {budget:,} {unit} "
                f"on a Cortex-M4: the smallest of {BUDGET_PROBES} sampled is estimated at "
                f"{least[unit]:,}; raise {option} or search a space of smaller models"
            )
    return smallest if smallest is not None else 0


def _least_device_costs(model: object, least: dict[str, int]) -> None:
    """Lower ``least``'s flash and arena bytes to the model's estimate where it is smaller."""
    from tinyconv.device_estimate import estimate_device

    try:
        estimate = estimate_device(model)  # type: ignore[arg-type]
    except TinyconvError:
        return  # a model the estimate cannot read: its trial is refused, or not, by itself
    for unit, value in (
        ("flash bytes", estimate.flash_bytes),
        ("arena bytes", estimate.arena_bytes),
    ):
        least[unit] = min(least.get(unit, value), value)


def first_prunable_epoch(epochs: int) -> int:
    """The first epoch after which a trial may be pruned: a third of the way in.

    Early epochs say more about the schedule than about the net: in the first MNIST
    frontier search (``results/search``) a OneCycle trial at 91.2 % after epoch 1, its
    warm-up, ended at 98.80 %, among the best, while pruning from epoch 1 stopped 37 of
    the 43 trials it trained there. So every trial reports every epoch but can be
    pruned only from this one on.

    Args:
        epochs: The trial's epochs.

    Returns:
        ``ceil(epochs / 3)``, at least 1.

    Example:
        >>> first_prunable_epoch(15), first_prunable_epoch(2), first_prunable_epoch(1)
        (5, 1, 1)
    """
    return max(1, -(-epochs // 3))


class _ReportAndPrune(Callback):
    """Report each epoch's validation accuracy to the trial; prune when Optuna says so.

    Pruning is asked for only from :func:`first_prunable_epoch` on.
    """

    def __init__(self, trial: optuna.Trial, epochs: int) -> None:
        self.trial = trial
        self.first_prunable = first_prunable_epoch(epochs)

    def on_epoch_end(self, state: TrainState) -> bool:
        accuracy = state.record.eval_acc
        self.trial.report(accuracy, state.epoch)
        if state.epoch >= self.first_prunable and self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {state.epoch} at val {accuracy:.4f}")
        return False


class Objective:
    """The function Optuna optimises: one call trains (or refuses) one trial.

    Args:
        settings: The search settings.
        space: The space function; ``None`` resolves ``settings.space``.
        log: Receives one line per trial.

    Example:
        >>> settings = SearchSettings(space="mnist", out="x", trials=1, max_params=10)
        >>> objective = Objective(settings)
        >>> study = optuna.create_study(direction="maximize")
        >>> study.optimize(objective, n_trials=1)  # over budget: no data, no training
        >>> study.trials[0].state.name, study.trials[0].user_attrs["over_budget"]
        ('PRUNED', True)
    """

    def __init__(
        self,
        settings: SearchSettings,
        space: Space | None = None,
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.settings = settings
        self.space = space or resolve_space(settings.space)
        self.log = log
        self._data: dict[str, tuple[ImageDataset, ImageDataset]] = {}

    def data(self, dataset: str) -> tuple[ImageDataset, ImageDataset]:
        """Return ``(train, val)`` for ``dataset``, loaded once per process.

        Only the training split is read; validation is carved from it, stratified,
        with ``settings.split_seed``.

        Args:
            dataset: Registered dataset name.

        Returns:
            The training part (its first ``train_subset`` images if set) and the
            validation part.

        Raises:
            SplitError: If ``val_size`` or ``train_subset`` do not fit the data.
        """
        if dataset not in self._data:
            settings = self.settings
            full = load_dataset(dataset, settings.data_dir, train=True)  # type: ignore[arg-type]
            split = ValidationSplit(settings.val_size, settings.split_seed, settings.train_subset)
            self._data[dataset] = split.carve(full)
        return self._data[dataset]

    def _check_not_surplus(self, trial: optuna.Trial) -> None:
        ahead = sum(
            1
            for other in trial.study.get_trials(deepcopy=False)
            if other.number < trial.number and other.state != optuna.trial.TrialState.FAIL
        )
        if ahead >= self.settings.trials:
            trial.set_user_attr("surplus", True)
            raise SurplusTrialError(f"the study already has {ahead} trials")

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, float]:
        """Run one trial.

        Args:
            trial: The trial.

        Returns:
            Final-epoch validation accuracy, or ``(accuracy, params)`` in
            multi-objective mode.

        Raises:
            optuna.TrialPruned: Over budget (no training), or stopped by the pruner.
            SpaceError: The space failed or yielded a model that cannot be built.
            SurplusTrialError: The study already had its trials.
        """
        settings = self.settings
        trial.set_user_attr("worker", worker_identity())
        self._check_not_surplus(trial)
        recipe = apply_settings(recipe_from_trial(self.space, trial, settings.space), settings)
        system = trial.study._storage.get_trial_system_attrs(trial._trial_id)
        retry = system.get("failed_trial")  # set by Optuna's retry callback
        again = f" (retry of trial {retry})" if retry is not None else ""
        started = time.perf_counter()
        try:
            model = recipe.build_model(seed=settings.seed)
            check_budget(model, max_flash=settings.max_flash, max_arena=settings.max_arena)
        except BudgetExceededError as error:
            params = error.total if error.unit == "parameters" else count_parameters(model)
            trial.set_user_attr("params", params)
            trial.set_user_attr("over_budget", True)
            trial.set_user_attr("over_budget_unit", error.unit)
            self.log(
                f"trial {trial.number}{again}: {error.total:,} {error.unit} > budget "
                f"{error.budget:,}; pruned without training"
            )
            raise optuna.TrialPruned("over budget") from None
        except (TinyconvError, ValueError) as error:
            trial.set_user_attr("error", str(error))
            raise SpaceError(
                f"search space {settings.space!r} yielded a model that cannot be built "
                f"(trial {trial.number}, parameters {trial.params}): {error}"
            ) from error
        params = count_parameters(model)
        trial.set_user_attr("params", params)
        trial.set_user_attr("over_budget", False)
        trial.set_user_attr("recipe", recipe.to_dict())
        train_set, val_set = self.data(recipe.dataset)
        epochs = recipe.train.epochs
        callbacks = [] if settings.multi_objective else [_ReportAndPrune(trial, epochs)]
        try:
            (run,) = train_recipe(
                recipe,
                [settings.seed],
                train_set,
                val_set,
                eval_name="val",
                device=settings.device,
                progress=False,
                callbacks=callbacks,
            )
        except optuna.TrialPruned as pruned:
            seconds = time.perf_counter() - started
            self.log(f"trial {trial.number}{again}: {params:,} params, {pruned}, {seconds:.0f} s")
            raise
        history = run.history
        accuracy = float(history.final.eval_acc)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        trial.set_user_attr("train_seconds", round(seconds, 3))
        self.log(
            f"trial {trial.number}{again}: {params:,} params, val {100 * accuracy:.2f} % "
            f"after {epochs} epoch{'' if epochs == 1 else 's'}, {seconds:.0f} s"
        )
        return (accuracy, float(params)) if settings.multi_objective else accuracy
