"""``tinyconv prune`` end to end in real processes on real MNIST: the model file it writes loads,
summarises, meets its budget and exports in fresh processes; errors are one line; a run killed
mid-fine-tuning continues and ends bit for bit where an unbroken run ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import tinyconv as tc

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.mnist
pytest.importorskip("torch_pruning")

SOURCE = REPO_ROOT / "results" / "cpu" / "mnist_v5" / "seed0.model.pt"


def prune(root: Path, out: Path, *extra: str, budget: int = 4000) -> list[str]:
    return [
        sys.executable, "-m", "tinyconv", "prune", str(SOURCE), "--max-params", str(budget),
        "--out", str(out), "--data-dir", str(root), "--val-size", "500", "--device", "cpu",
        "--threads", "1", "--quiet", *extra,
    ]  # fmt: skip


def run_prune(
    root: Path, out: Path, *extra: str, budget: int = 4000
) -> subprocess.CompletedProcess[str]:
    """Run ``tinyconv prune`` (see :func:`prune`) to the end, capturing its output."""
    command = prune(root, out, *extra, budget=budget)
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def tinyconv(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tinyconv", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)


def test_prune_writes_an_ordinary_model_and_report(mnist_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "pruned"
    done = run_prune(mnist_root, out, "--epochs", "1", "--train-subset", "600")
    assert done.returncode == 0, done.stderr
    assert "6,364 -> " in done.stdout and f"Saved: {out}/model.pt" in done.stdout
    report = json.loads((out / "report.json").read_text())
    params = report["pruning"]["params_after"]
    assert params <= 4000 and report["pruning"]["params_before"] == 6364
    assert report["pruning"]["widths_before"]["conv5"] == 16
    assert report["recipe"] == "mnist_v5" and report["epochs"] == 1 and len(report["history"]) == 1
    assert (report["train_images"], report["val_images"]) == (600, 500)
    assert 0.0 <= report["val_acc_pruned"] <= 1.0 and 0.0 <= report["val_acc_finetuned"] <= 1.0
    assert report["val_acc_source"] > 0.95
    assert sorted(p.name for p in out.iterdir()) == ["model.pt", "report.json"]

    summary = tinyconv("summary", str(out / "model.pt"), "--max-params", "4000")
    assert summary.returncode == 0, summary.stderr
    assert f"Total params: {params:,}" in summary.stdout and "Budget: 4,000" in summary.stdout
    exported = tinyconv(
        "export", str(out / "model.pt"), "--out", str(tmp_path / "export"), "--int8",
        "--data-dir", str(mnist_root), "--test-images", "300", "--calibration-images", "200",
        "--latency-runs", "3",
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    model = tc.load(out / "model.pt")
    assert model.metadata["pruned_from"] == str(SOURCE) and "final_test_acc" not in model.metadata
    assert [model.dataset, model.num_classes] == ["mnist", 10]

    again = run_prune(mnist_root, out, "--epochs", "1")
    assert again.returncode == 2
    assert again.stderr.startswith("error: ") and again.stderr.count("\n") == 1
    assert "holds a finished run" in again.stderr


def test_an_unreachable_budget_is_one_error_line(mnist_root: Path, tmp_path: Path) -> None:
    done = run_prune(mnist_root, tmp_path / "x", "--epochs", "0", budget=10)
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot prune to 10 parameters: with one channel")
    assert not (tmp_path / "x" / "model.pt").exists()


def test_the_pruning_ratio_reaches_the_report_and_a_bad_one_is_one_error_line(
    mnist_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "capped"
    done = run_prune(mnist_root, out, "--epochs", "0", "--max-pruning-ratio", "0.5")
    assert done.returncode == 0, done.stderr
    pruning = json.loads((out / "report.json").read_text())["pruning"]
    assert pruning["max_pruning_ratio"] == 0.5 and pruning["params_after"] <= 4000
    assert "channels removed, at most 50% of any layer's channels)" in done.stdout
    assert all(pruning["widths_after"][k] >= w / 2 for k, w in pruning["widths_before"].items())
    bad = run_prune(mnist_root, tmp_path / "bad", "--epochs", "0", "--max-pruning-ratio", "1.5")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("error: max_pruning_ratio must be in (0, 1]")
    assert not (tmp_path / "bad").exists()


def test_killed_fine_tuning_continues_to_the_unbroken_result(
    mnist_root: Path, tmp_path: Path
) -> None:
    extra = ("--epochs", "3", "--train-subset", "1500")
    unbroken = run_prune(mnist_root, tmp_path / "a", *extra)
    assert unbroken.returncode == 0, unbroken.stderr

    out = tmp_path / "b"
    checkpoint = out / "finetune.ckpt.pt"
    victim = subprocess.Popen(prune(mnist_root, out, *extra), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpoint.exists(), "the run never wrote its first checkpoint"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert not (out / "report.json").exists()
    resumed = run_prune(mnist_root, out, *extra)
    assert resumed.returncode == 0, resumed.stderr
    assert not checkpoint.exists()

    def scores(path: Path) -> list[tuple]:
        history = json.loads(path.read_text())["history"]
        return [(r["epoch"], r["train_loss"], r["eval_acc"]) for r in history]

    assert scores(out / "report.json") == scores(tmp_path / "a" / "report.json")
    first = tc.load(tmp_path / "a" / "model.pt").state_dict()
    second = tc.load(out / "model.pt").state_dict()
    assert all(torch.equal(value, second[key]) for key, value in first.items())
