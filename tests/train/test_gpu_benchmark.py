"""The prepared GPU benchmark runs end to end (on the CPU here, with tiny settings), so the
script a rare GPU window depends on does not rot between windows."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.mnist
def test_the_speed_table_runs_and_records_each_row_and_the_goal_ratios(
    mnist_root: Path, tmp_path: Path
) -> None:
    main = runpy.run_path(str(REPO / "benchmarks" / "gpu_training.py"))["main"]
    out = tmp_path / "speed.json"
    report = main([
        "--device", "cpu", "--data-dir", str(mnist_root), "--epochs", "1",
        "--train-subset", "300", "--rows", "eager:1", "captured:1", "eager:0",
        "--json", str(out),
    ])  # fmt: skip
    rows = report["rows"]
    assert rows["eager:1"]["final_test_acc"] == rows["captured:1"]["final_test_acc"]  # bit for bit
    assert "error" in rows["eager:0"]  # a failing row is recorded, the others still run
    assert report["goals"]["captured_one_seed_train_seconds"] > 0
    assert json.loads(out.read_text())["rows"].keys() == rows.keys()
    assert report["environment"]["torch"] and report["train_images"] == 300
