"""The search figures from real Optuna studies in the storage tinyconv.search writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")

from tinyconv.plots import ReportInputError, pareto_front_figure, search_history_figure  # noqa: E402
from tinyconv.search.storage import open_storage  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def finished_study(folder: Path, directions: list[str]) -> object:
    study = optuna.create_study(
        study_name="demo", storage=open_storage(None, folder), directions=directions
    )
    rows = [
        (0.97, 3200),
        (0.985, 3900),
        (0.96, 2500),
        (0.98, 3600),
        (0.965, 3700),
    ]  # last: dominated
    for acc, params in rows:
        values = [acc] if len(directions) == 1 else [acc, params]
        study.add_trial(optuna.trial.create_trial(values=values, user_attrs={"params": params}))
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.PRUNED, user_attrs={"params": 9000, "over_budget": True}
        )
    )
    return study


def test_history_draws_every_completed_trial_and_the_running_best(tmp_path: Path) -> None:
    study = finished_study(tmp_path, ["maximize"])
    ax = search_history_figure(study).axes[0]
    trials, best = ax.get_lines()
    assert list(trials.get_xdata()) == [0, 1, 2, 3, 4]
    assert list(best.get_ydata()) == pytest.approx([97.0, 98.5, 98.5, 98.5, 98.5])
    assert "5 completed, 0 pruned by the pruner, 1 over budget" in ax.get_title()


def test_pareto_front_keeps_only_undominated_trials(tmp_path: Path) -> None:
    study = finished_study(tmp_path, ["maximize", "minimize"])
    front = pareto_front_figure(study, max_params=4000).axes[0].get_lines()[0]
    assert [int(x) for x in front.get_xdata()] == [2500, 3200, 3600, 3900]
    assert list(front.get_ydata()) == pytest.approx([96.0, 97.0, 98.0, 98.5])


def test_a_study_without_completed_trials_is_a_clear_error(tmp_path: Path) -> None:
    study = optuna.create_study(study_name="empty", storage=open_storage(None, tmp_path))
    with pytest.raises(ReportInputError, match="no completed trial"):
        search_history_figure(study)


def test_report_command_on_a_search_folder(tmp_path: Path) -> None:
    finished_study(tmp_path / "search", ["maximize"])
    out = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "tinyconv", "report", str(tmp_path / "search"), "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {
        "index.html",
        "search_history.png",
        "pareto_front.png",
    }
    page = (out / "index.html").read_text()
    assert "98.50 %" in page and "search_history.png" in page
