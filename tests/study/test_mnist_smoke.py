"""Smoke test on real MNIST: the V5 example learns in one short epoch, through its CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from examples_loader import load_example

from tinyconv.cli.commands.study import main_for as main

pytestmark = pytest.mark.mnist


def test_v5_learns_in_one_short_epoch(
    mnist_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = load_example("mnist_v5").RECIPE
    argv = ["--data-dir", str(mnist_root), "--epochs", "1", "--train-subset", "8000"]
    argv += ["--device", "cpu", "--out", str(tmp_path), "--quiet"]
    assert main(recipe, argv) == 0
    printed = capsys.readouterr().out
    assert "Total params: 6,364" in printed and "Budget: 8,000 parameters, met." in printed
    # Runs on a subset are saved apart from the full-data results.
    assert not (tmp_path / "mnist_v5.json").exists()
    run = json.loads((tmp_path / "mnist_v5_train8000.json").read_text())["seeds"]["0"]
    assert run["epochs"] == 1 and run["device"] == "cpu"
    assert (run["train_samples"], run["test_samples"]) == (8000, 10000)
    assert run["final_test_acc"] > 0.6  # chance is 0.1; measured about 0.8 here
    assert (tmp_path / "mnist_v5_train8000" / "seed0.csv").read_text().startswith("epoch,")
