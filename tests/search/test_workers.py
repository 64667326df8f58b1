"""Real worker processes sharing one journal storage: exact trial counts, kill -9 survival."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from optuna.trial import TrialState

from tinyconv.search import load_search

from .conftest import SMALL, child_env, run_tinyconv, space, tinyconv_command

TRIAL_LINE = re.compile(r"^\[worker (\d+)\] trial (\d+)\b", re.MULTILINE)


def test_two_workers_finish_exactly_n_trials_none_twice(
    tmp_path: Path, train_only_root: Path
) -> None:
    out = tmp_path / "out"
    result = run_tinyconv(
        "search", space("tiny"), "--trials", "6", "--out", out, "--workers", "2",
        "--epochs", "1", "--data-dir", train_only_root, *SMALL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 worker processes, 1 torch thread(s) each" in result.stdout
    study = load_search(out)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 6
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    # every finished trial was run by exactly one worker, and printed once
    lines = Counter(int(number) for _, number in TRIAL_LINE.findall(result.stdout))
    assert set(lines) == {t.number for t in finished}
    assert set(lines.values()) == {1}
    pids = {t.user_attrs["worker"]["pid"] for t in finished}
    assert len(pids) <= 2 and os.getpid() not in pids  # spawned processes, not this one


def _wait_for_training_trial(out: Path, pid: int, process: subprocess.Popen) -> int:
    """Poll the journal until worker ``pid`` is training a trial; return its number."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if (out / "search.journal").exists():
            try:
                study = load_search(out)
            except Exception:  # the study is being created
                study = None
            for trial in study.get_trials(states=(TrialState.RUNNING,)) if study else ():
                worker = trial.user_attrs.get("worker", {})
                if worker.get("pid") == pid and trial.user_attrs.get("over_budget") is False:
                    return trial.number
        time.sleep(0.05)
    raise AssertionError("the worker never started training a trial")


def test_a_worker_killed_mid_trial_fails_its_trial_and_the_study_goes_on(
    tmp_path: Path, train_only_root: Path
) -> None:
    out = tmp_path / "out"
    args = [
        "search", space("tiny"), "--trials", "4", "--out", out, "--epochs", "2",
        "--data-dir", train_only_root, "--sampler-seed", "0", *SMALL,
    ]  # fmt: skip
    victim = subprocess.Popen(
        tinyconv_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()
    )
    killed = _wait_for_training_trial(out, victim.pid, victim)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()  # reaped: no zombie that would look alive
    survivor = run_tinyconv(*args)
    assert survivor.returncode == 0, survivor.stderr
    assert f"trial {killed}: its worker (pid {victim.pid}) died" in survivor.stdout
    study = load_search(out)
    states = {t.number: t.state for t in study.trials}
    assert states[killed] == TrialState.FAIL
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 4
    retried = [t for t in finished if t.system_attrs.get("failed_trial") == killed]
    assert len(retried) == 1 and retried[0].params == study.trials[killed].params
    assert f"(retry of trial {killed})" in survivor.stdout


def test_a_time_limit_stops_the_workers_between_trials_and_a_rerun_continues(
    tmp_path: Path, train_only_root: Path
) -> None:
    out = tmp_path / "out"
    command = [
        "search", space("tiny"), "--trials", "10000", "--out", out, "--workers", "2",
        "--epochs", "1", "--data-dir", train_only_root, *SMALL,
    ]  # fmt: skip

    def finished() -> int:
        states = (TrialState.COMPLETE, TrialState.PRUNED)
        return len(load_search(out).get_trials(states=states))

    first = run_tinyconv(*command, "--time-limit", "3")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("time limit of 3 s reached; this worker stops") == 2
    after_first = finished()
    assert 1 <= after_first < 10_000  # the time limit ended the search, not the trial count
    again = run_tinyconv(*command, "--time-limit", "3")
    assert again.returncode == 0, again.stderr
    assert after_first < finished() < 10_000
    assert not load_search(out).get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
