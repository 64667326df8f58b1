"""The training engine computes what it computed before the one-engine redesign, bit for bit.

``reference/engine_reference_results.json`` was recorded at commit 44b9e54, before ``fit`` and
``fit_stacked`` became step strategies of one loop: two seeds of V5 for 2 epochs on 2,000
MNIST images, one torch thread, once seed by seed and once stacked. The same command must
give the same per-epoch losses and accuracies and the same weights (a digest of every
tensor). CPU kernels round differently on other instruction sets and torch releases, so the
comparison runs only where the CPU model and the torch version are those of the recording.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tinyconv as tc
from tinyconv.study import load_results

pytestmark = pytest.mark.mnist

REFERENCE = Path(__file__).parent / "reference"
TIMING = {"seconds", "images_per_sec"}


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _summarise(folder: Path) -> dict[str, dict]:
    data = load_results(folder / "engine_reference_train2000.json")
    out = {}
    for seed, run in sorted(data["seeds"].items()):
        model = tc.load(folder / "engine_reference_train2000" / f"seed{seed}.model.pt")
        digest = hashlib.sha256()
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.cpu().contiguous().numpy().tobytes())
        out[seed] = {
            "history": [{k: v for k, v in r.items() if k not in TIMING} for r in run["history"]],
            "final_test_acc": run["final_test_acc"],
            "params": run["params"],
            "weights_sha256": digest.hexdigest(),
        }
    return out


@pytest.mark.parametrize("how", ["single", "stacked"])
def test_a_short_study_trains_bit_for_bit_as_before_the_redesign(
    how: str, mnist_root: Path, tmp_path: Path
) -> None:
    reference = json.loads((REFERENCE / "engine_reference_results.json").read_text())
    here = (_cpu_model(), torch.__version__)
    if here != (reference["cpu"], reference["torch"]):
        pytest.skip(f"recorded on {reference['cpu']} with torch {reference['torch']}, not {here}")
    command = [
        sys.executable,
        "-m",
        "tinyconv",
        "study",
        str(REFERENCE / "engine_reference.json"),
        "--seeds",
        "2",
        "--train-subset",
        "2000",
        "--threads",
        "1",
        "--quiet",
        "--data-dir",
        str(mnist_root),
        "--out",
        str(tmp_path),
    ]
    if how == "stacked":
        command += ["--stack", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _summarise(tmp_path) == reference[how]
