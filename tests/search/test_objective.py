"""Budget first, honest data: in-process searches on real MNIST with real Optuna storages."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tinyconv.recipe import Recipe
from tinyconv.search import SearchSettings, load_search, run_search
from tinyconv.search.errors import SettingsError
from tinyconv.search.objective import Objective
from tinyconv.search.trials import recipe_from_params
from tinyconv.workers import split_threads

from .conftest import space


def settings_for(tmp_path: Path, root: Path, name: str, trials: int, **changes) -> SearchSettings:
    return SearchSettings(
        space=space(name),
        out=str(tmp_path / "out"),
        trials=trials,
        train_subset=1000,
        val_size=500,
        data_dir=str(root),
        sampler_seed=0,
        **changes,
    )


def test_a_space_mostly_over_budget_costs_seconds(tmp_path: Path, train_only_root: Path) -> None:
    settings = settings_for(tmp_path, train_only_root, "mostly_over_budget", trials=20)
    started = time.perf_counter()
    study = run_search(settings)
    elapsed = time.perf_counter() - started
    trials = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(trials) == 20
    over = [t for t in trials if t.user_attrs.get("over_budget")]
    assert len(over) >= 10, [t.params for t in trials]
    for trial in over:
        assert trial.state == TrialState.PRUNED
        assert trial.user_attrs["params"] > 600
        assert "recipe" not in trial.user_attrs  # built, counted, never trained
        assert trial.intermediate_values == {}
        assert (trial.datetime_complete - trial.datetime_start).total_seconds() < 5
    assert all(t.user_attrs["params"] <= 600 for t in trials if t.state == TrialState.COMPLETE)
    assert elapsed < 180, f"{len(over)} over-budget trials took {elapsed:.1f} s in all"


def test_a_device_budget_refuses_trials_by_the_estimate_before_training(
    tmp_path: Path, train_only_root: Path
) -> None:
    # the tiny space's arenas are estimated at 2,859-3,616 bytes (2,859-2,895 with c1 = 4):
    # its first width decides
    settings = settings_for(tmp_path, train_only_root, "tiny", trials=4, max_arena=3000)
    assert settings.identity()["max_arena"] == 3000 and "max_flash" not in settings.identity()
    study = run_search(settings)
    over = [t for t in study.trials if t.user_attrs.get("over_budget")]
    assert over and all(t.params["c1"] > 4 for t in over), [t.params for t in study.trials]
    for trial in over:
        assert trial.state == TrialState.PRUNED
        assert trial.user_attrs["over_budget_unit"] == "arena bytes"
        assert trial.user_attrs["params"] < 2000  # the model's parameters, not its bytes
        assert "recipe" not in trial.user_attrs and trial.intermediate_values == {}
    assert all(t.params["c1"] == 4 for t in study.trials if t.state == TrialState.COMPLETE)
    with pytest.raises(SettingsError, match=r"1,000 arena bytes on a Cortex-M4.*--max-arena"):
        run_search(replace(settings, max_arena=1000))  # no model of the space fits: refused


def test_the_test_set_is_never_loaded(tmp_path: Path, train_only_root: Path) -> None:
    # train_only_root's test files are garbage: loading them raises CorruptDatasetError,
    # which would fail the trial and the search.
    settings = settings_for(tmp_path, train_only_root, "tiny", trials=3)
    study = run_search(settings)
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert complete, [t.state for t in study.trials]
    for trial in complete:
        assert set(trial.intermediate_values) == {1, 2}  # one validation report per epoch
        assert trial.value == trial.intermediate_values[2]  # final epoch, not the best


def test_the_validation_split_is_fixed_and_carved_from_train(train_only_root: Path) -> None:
    settings = SearchSettings(
        space=space("tiny"), out="unused", trials=1, train_subset=1000, val_size=500,
        data_dir=str(train_only_root),
    )  # fmt: skip
    train, val = Objective(settings).data("mnist")
    again_train, again_val = Objective(settings).data("mnist")
    assert len(train) == 1000 and len(val) == 500
    assert (val.labels == again_val.labels).all() and (val.images == again_val.images).all()
    assert (train.images == again_train.images).all()
    counts = val.class_counts()  # stratified: each class near 50 of 500
    assert int(counts.min()) >= 40 and int(counts.max()) <= 60


def test_a_trial_is_rebuilt_from_its_parameters(tmp_path: Path, train_only_root: Path) -> None:
    settings = settings_for(tmp_path, train_only_root, "tiny", trials=2, epochs=1)
    run_search(settings)
    study = load_search(tmp_path / "out")
    identity = study.user_attrs["tinyconv"]
    for trial in study.get_trials(states=(TrialState.COMPLETE,)):
        rebuilt = recipe_from_params(identity["space"], trial.params, identity)
        assert rebuilt == Recipe.from_dict(trial.user_attrs["recipe"])
        assert rebuilt.train.epochs == 1


def test_multi_objective_prunes_only_on_budget(tmp_path: Path, train_only_root: Path) -> None:
    settings = settings_for(
        tmp_path, train_only_root, "mostly_over_budget", trials=10, multi_objective=True
    )
    study = run_search(settings)
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    for trial in study.trials:
        if trial.state == TrialState.PRUNED:
            assert trial.user_attrs["over_budget"] is True
        else:
            assert trial.state == TrialState.COMPLETE
            assert trial.values[1] == trial.user_attrs["params"] <= 600
    assert isinstance(study.pruner, optuna.pruners.NopPruner) or study.best_trials


def test_threads_are_split_between_workers() -> None:
    assert split_threads(2, 2) == 1
    assert split_threads(1, 2) == 2
    assert split_threads(3, 16) == 5


def test_a_weak_trial_is_pruned_only_from_a_third_of_its_epochs_on() -> None:
    from torch import nn

    from tinyconv.search.objective import _ReportAndPrune
    from tinyconv.train import EpochRecord, History, TrainConfig, TrainState
    from tinyconv.train.optim import build_optimizer

    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=1)
    )
    strong = study.ask()
    for epoch in range(1, 16):
        strong.report(0.99, epoch)
    study.tell(strong, 0.99)
    weak = study.ask()
    callback = _ReportAndPrune(weak, epochs=15)
    model, config, history = nn.Linear(2, 2), TrainConfig(), History()
    optimizer = build_optimizer(model, config)
    for epoch in range(1, 16):
        history.append(EpochRecord(epoch, 1.0, 0.5, 1.0, 0.5, "val", 0.1, 1.0, 100.0))
        state = TrainState(epoch, model, optimizer, config, history)
        if epoch < 5:
            assert callback.on_epoch_end(state) is False  # reported, never pruned yet
        else:
            with pytest.raises(optuna.TrialPruned, match=r"pruned after epoch 5 at val 0\.5000"):
                callback.on_epoch_end(state)
            break
    assert weak.storage.get_trial(weak._trial_id).intermediate_values == {
        e: 0.5 for e in range(1, 6)
    }
