"""Every ``tinyconv`` command in a real subprocess, once each, on small real inputs.

``study``, ``summary`` and ``results`` have files of their own here; the others run their
cheapest real job (their full behaviour is tested beside their library: tests/export,
tests/plots, tests/search, tests/compress).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinyconv.cli import build_parser

from .conftest import REPO, assert_one_error_line

TESTED_HERE = {"export", "report", "search", "search-best", "recipes"}
TESTED_IN_OWN_FILES = {"study", "summary", "results"}


def test_every_command_has_a_test_that_runs_it() -> None:
    commands = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    # prune: tests/compress; mcu: tests/export/test_mcu.py (beside the .tflite it runs)
    untested = commands - TESTED_HERE - TESTED_IN_OWN_FILES - {"prune", "mcu"}
    assert untested == set()
    for name in TESTED_IN_OWN_FILES:
        assert (Path(__file__).parent / f"test_{name}.py").is_file()


@pytest.mark.mnist
def test_export_writes_a_verified_onnx_file(
    tinyconv_command, mnist_root: Path, tmp_path: Path
) -> None:
    model, out = REPO / "results" / "cpu" / "mnist_v5" / "seed0.model.pt", tmp_path / "deploy"
    done = tinyconv_command(
        "export", str(model), "--out", str(out), "--data-dir", str(mnist_root),
        "--test-images", "200", "--latency-runs", "5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "seed0.onnx").is_file()


def test_export_of_a_missing_file_is_one_error_line(tinyconv_command, tmp_path: Path) -> None:
    done = tinyconv_command("export", str(tmp_path / "none.model.pt"), "--out", str(tmp_path / "o"))
    assert_one_error_line(done, "none.model.pt")


def test_report_of_a_committed_results_file_writes_its_page(
    tinyconv_command, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    done = tinyconv_command(
        "report", str(REPO / "results" / "cpu" / "mnist_v1.json"), "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert (out / "index.html").is_file()


@pytest.mark.mnist
def test_search_and_search_best_give_a_recipe_study_can_run(
    tinyconv_command, mnist_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "search"
    done = tinyconv_command(
        "search", "mnist", "--trials", "1", "--epochs", "1", "--train-subset", "300",
        "--val-size", "200", "--out", str(out), "--data-dir", str(mnist_root), "--threads", "1",
        "--sampler-seed", "0",  # an unseeded trial may sample a net that fails to complete
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "trials: 1 complete" in done.stdout
    assert "next: tinyconv search-best" in done.stdout
    best = tmp_path / "best.json"
    done = tinyconv_command("search-best", str(out), "--study-name", "mnist", "--out", str(best))
    assert done.returncode == 0, done.stderr
    recipe = json.loads(best.read_text())
    assert recipe["train"]["epochs"] == 1 and recipe["specs"]


def test_an_abbreviated_option_is_refused_not_guessed(tinyconv_command) -> None:
    # an unambiguous prefix used to be taken for the option (--dataset once meant
    # summary's --dataset-dir silently); now only whole option names are
    done = tinyconv_command("summary", "mnist_v5", "--dep", "2")
    assert done.returncode == 2
    assert "unrecognized arguments: --dep 2" in done.stderr
    done = tinyconv_command("export", "m.pt", "--out", "o", "--overw")
    assert done.returncode == 2 and "unrecognized arguments: --overw" in done.stderr


def test_every_command_that_computes_takes_threads_and_refuses_zero(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    computing = {
        "study": ["study", "mnist_v5", "--out", out],
        "export": ["export", "m.model.pt", "--out", out],
        "report": ["report", "m.model.pt", "--out", out],
        "prune": ["prune", "m.model.pt", "--max-params", "4000", "--out", out],
        "mcu": ["mcu", "m.int8.tflite", "--out", out],
    }
    code = (  # every command in one fresh process, as the command line runs it
        "import contextlib, io, json, sys\nfrom tinyconv.cli import main\nfound = {}\n"
        "for name, argv in json.loads(sys.argv[1]).items():\n"
        "    err = io.StringIO()\n"
        "    with contextlib.redirect_stderr(err):\n"
        "        found[name] = [main([*argv, '--threads', '0']), err.getvalue().strip()]\n"
        "print(json.dumps(found))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(computing)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    for name, (status, stderr) in json.loads(done.stdout).items():
        assert (status, stderr) == (2, "error: --threads must be at least 1, got 0"), name
    assert not (tmp_path / "out").exists()


def test_recipes_lists_every_ready_recipe_with_its_parameters(tinyconv_command) -> None:
    from tinyconv.recipes import RECIPES

    done = tinyconv_command("recipes")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["Recipe", "Dataset", "Params", "Description"]
    listed = {line.split()[0]: line.split()[1:3] for line in lines[1 : 1 + len(RECIPES)]}
    assert set(listed) == set(RECIPES)
    assert listed["mnist_v5"] == ["mnist", "6,364"]
    assert listed["mnist_4k_onecycle"] == ["mnist", "3,740"]
