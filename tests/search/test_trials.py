"""The winner becomes a recipe JSON that the study runner re-scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from optuna.trial import TrialState

from tinyconv.recipe import Recipe
from tinyconv.recipes import get_recipe
from tinyconv.search import SearchSettings, export_recipe, load_search, run_search
from tinyconv.search.errors import NoTrialError

from .conftest import run_tinyconv, space


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory: pytest.TempPathFactory, train_only_root: Path) -> Path:
    out = tmp_path_factory.mktemp("search") / "out"
    settings = SearchSettings(
        space=space("tiny"), out=str(out), trials=3, epochs=1, train_subset=1000, val_size=500,
        data_dir=str(train_only_root), sampler_seed=1, study_name="tiny_study",
    )  # fmt: skip
    run_search(settings)
    return out


def test_the_best_trial_is_exported_as_a_recipe(finished_search: Path, tmp_path: Path) -> None:
    path, trial, recipe = export_recipe(finished_search, tmp_path / "best.json")
    study = load_search(finished_search)
    assert trial.number == study.best_trial.number
    assert get_recipe(str(path)) == recipe
    assert recipe.name == f"tiny_study_trial{trial.number}"
    assert Recipe.from_dict(trial.user_attrs["recipe"]).specs == recipe.specs
    assert "validation accuracy" in recipe.description


def test_a_chosen_trial_must_be_complete(finished_search: Path, tmp_path: Path) -> None:
    study = load_search(finished_search)
    number = study.get_trials(states=(TrialState.COMPLETE,))[-1].number
    _, trial, _ = export_recipe(finished_search, tmp_path / "t.json", trial=number)
    assert trial.number == number
    with pytest.raises(NoTrialError, match=r"trial 99 .* not there"):
        export_recipe(finished_search, tmp_path / "t.json", trial=99)
    with pytest.raises(NoTrialError, match="no study 'other'"):
        export_recipe(finished_search, tmp_path / "t.json", study_name="other")


def test_search_best_then_study_rescore_on_test(
    finished_search: Path, tmp_path: Path, mnist_root: Path
) -> None:
    best = tmp_path / "best.json"
    exported = run_tinyconv("search-best", finished_search, "--out", best)
    assert exported.returncode == 0, exported.stderr
    assert f"next: tinyconv study {best} --seeds 5" in exported.stdout
    assert json.loads(best.read_text())["name"].startswith("tiny_study_trial")
    scored = run_tinyconv(
        "study", best, "--seeds", "1", "--epochs", "1", "--train-subset", "1000",
        "--data-dir", mnist_root, "--out", tmp_path / "results", "--quiet", "--threads", "1",
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert "final-epoch test accuracy" in scored.stdout
