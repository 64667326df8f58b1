"""Clear errors, and no study changed by a refused command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from optuna.trial import TrialState

from tinyconv.search import SearchSettings, load_search, run_search
from tinyconv.search.errors import (
    SettingsError,
    SpaceError,
    StudyMismatchError,
    UnknownStorageError,
)
from tinyconv.search.spaces import resolve_space
from tinyconv.search.storage import open_storage

from .conftest import run_tinyconv, space


def small(tmp_path: Path, root: Path, name: str = "tiny", **changes) -> SearchSettings:
    values = dict(
        space=space(name), out=str(tmp_path / "out"), trials=1, epochs=1, train_subset=1000,
        val_size=500, data_dir=str(root),
    )  # fmt: skip
    values.update(changes)
    return SearchSettings(**values)


@pytest.mark.parametrize("url", ["redis://localhost:6379", "mongodb://x/y", "study.db", "ftp:x"])
def test_an_unknown_storage_url_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(UnknownStorageError, match="unknown storage"):
        open_storage(url, tmp_path)
    assert not any(tmp_path.iterdir())


def test_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/nothing"
    with pytest.raises(UnknownStorageError, match="cannot reach") as raised:
        open_storage(url, tmp_path)
    assert "secret" not in str(raised.value)


def test_the_command_prints_one_error_line(tmp_path: Path) -> None:
    result = run_tinyconv(
        "search", "mnist", "--trials", "2", "--out", tmp_path, "--storage", "redis://x"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown storage 'redis://x'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_space_yielding_an_invalid_spec_stops_with_a_clear_error(
    tmp_path: Path, train_only_root: Path
) -> None:
    settings = small(tmp_path, train_only_root, "kernel_too_big")
    with pytest.raises(SpaceError, match=r"cannot be built .*kernel 31x31"):
        run_search(settings)
    study = load_search(tmp_path / "out")
    assert [t.state for t in study.trials] == [TrialState.FAIL]
    assert "kernel 31x31" in study.trials[0].user_attrs["error"]


def test_a_space_returning_no_recipe_is_refused(tmp_path: Path, train_only_root: Path) -> None:
    with pytest.raises(SpaceError, match=r"returned tuple, not a tinyconv\.Recipe"):
        run_search(small(tmp_path, train_only_root, "not_a_recipe"))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("mnits", "unknown search space 'mnits'"),
        ("nowhere/space.py:f", "does not exist"),
        ("tinyconv.nothing_here:f", "cannot import search space"),
        (f"{space('tiny')}_missing", "has no function 'tiny_missing'"),
    ],
)
def test_an_unknown_space_is_refused(name: str, message: str) -> None:
    with pytest.raises(SpaceError, match=message):
        resolve_space(name)


@pytest.mark.parametrize(
    ("change", "difference"),
    [
        ({"multi_objective": True}, "directions=['maximize']"),
        ({"space": space("mostly_over_budget")}, "space="),
        ({"epochs": 2}, "epochs=1"),
        ({"max_params": 1000}, "max_params=None"),
    ],
)
def test_a_study_of_another_search_is_refused_untouched(
    change: dict, difference: str, tmp_path: Path, train_only_root: Path
) -> None:
    run_search(small(tmp_path, train_only_root, study_name="shared"))
    before = load_search(tmp_path / "out")
    trials_before, attrs_before = len(before.trials), before.user_attrs
    with pytest.raises(
        StudyMismatchError, match=rf"study 'shared' already exists.*{re.escape(difference)}"
    ):
        run_search(small(tmp_path, train_only_root, study_name="shared", trials=3, **change))
    after = load_search(tmp_path / "out")
    assert len(after.trials) == trials_before and after.user_attrs == attrs_before
    assert [d.name for d in after.directions] == ["MAXIMIZE"]


def test_settings_out_of_range_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="trials must be an int >= 1"):
        SearchSettings(space="mnist", out=str(tmp_path), trials=0)
    with pytest.raises(SettingsError, match="workers must be an int >= 1"):
        run_search(SearchSettings(space="mnist", out=str(tmp_path), trials=1), workers=0)
    with pytest.raises(SettingsError, match="pruner must be one of"):
        SearchSettings(space="mnist", out=str(tmp_path), trials=1, pruner="mean")


def test_time_limit_must_be_positive_seconds(tmp_path: Path) -> None:
    for bad in (0, -1.5, "60", True):
        with pytest.raises(SettingsError, match="time_limit_s must be a number > 0"):
            SearchSettings(space="mnist", out=str(tmp_path), trials=1, time_limit_s=bad)


def test_a_budget_no_model_of_the_space_meets_is_refused_before_any_trial(
    tmp_path: Path, train_only_root: Path
) -> None:
    out = tmp_path / "impossible"
    done = run_tinyconv(
        "search", "mnist", "--max-params", "10", "--trials", "3", "--epochs", "1",
        "--out", out, "--data-dir", train_only_root,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    error = done.stderr.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error: no model of space 'mnist'"), error
    assert "the smallest of 200 sampled has" in error[0] and "--max-params" in error[0]
    assert "next:" not in done.stdout
    assert not (out / "search.journal").exists()
