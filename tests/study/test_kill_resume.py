"""A study killed with SIGKILL mid-epoch continues from its last finished epoch when the same
command runs again, and ends bit for bit where an unbroken run ends (real processes, real
MNIST, CPU)."""

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

import tinyconv

pytestmark = pytest.mark.mnist

NAME = "mnist_v5_train1500"


def command(root: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "tinyconv", "study", "mnist_v5", "--data-dir", str(root),
        "--train-subset", "1500", "--epochs", "3", "--device", "cpu", "--threads", "1",
        "--out", str(out), "--quiet",
    ]  # fmt: skip


def without_timings(run: dict) -> dict:
    skip = {"wall_seconds", "resumed_after_epoch", "torch_threads", "provenance"}
    history = [
        {k: v for k, v in record.items() if k not in ("seconds", "images_per_sec")}
        for record in run["history"]
    ]
    return {**{k: v for k, v in run.items() if k not in skip}, "history": history}


def test_kill_9_mid_epoch_then_rerun_matches_an_unbroken_run(
    mnist_root: Path, tmp_path: Path
) -> None:
    unbroken = subprocess.run(
        command(mnist_root, tmp_path / "a"), capture_output=True, text=True, timeout=600
    )
    assert unbroken.returncode == 0, unbroken.stderr

    out = tmp_path / "b"
    checkpoint = out / NAME / "seed0.ckpt"
    victim = subprocess.Popen(command(mnist_root, out), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpoint.exists(), "the run never wrote its first checkpoint"
    os.kill(victim.pid, signal.SIGKILL)  # somewhere in epoch 2
    victim.wait(timeout=30)
    assert not (out / f"{NAME}.json").exists()

    rerun = subprocess.run(command(mnist_root, out), capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    resumed = [line for line in rerun.stdout.splitlines() if "resuming after epoch" in line]
    assert resumed and resumed[0] in {
        "seed 0: resuming after epoch 1",
        "seed 0: resuming after epoch 2",
    }, rerun.stdout
    first = json.loads((tmp_path / "a" / f"{NAME}.json").read_text())["seeds"]["0"]
    second = json.loads((out / f"{NAME}.json").read_text())["seeds"]["0"]
    assert without_timings(second) == without_timings(first)
    weights = [tinyconv.load(folder / NAME / "seed0.model.pt").state_dict() for folder in (
        tmp_path / "a", out
    )]  # fmt: skip
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key

    again = subprocess.run(command(mnist_root, out), capture_output=True, text=True, timeout=600)
    assert "seed 0: already finished on cpu on " in again.stdout, again.stdout
