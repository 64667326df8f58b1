"""Fixtures of the search tests: a poisoned data root, spaces, and a CLI runner.

Every search here trains real models on real MNIST images (1,000 training and 500
validation images, 1-2 epochs, a few hundred parameters) with real Optuna storages and
real processes; nothing of torch or Optuna is mocked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("optuna", reason="the [search] extra is not installed")

from tinyconv.data.checksums import RAW_FILES

SPACES_FILE = Path(__file__).with_name("spaces_for_tests.py")


def space(name: str) -> str:
    """The space argument for a function of spaces_for_tests.py."""
    return f"{SPACES_FILE}:{name}"


@pytest.fixture(scope="session")
def train_only_root(mnist_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root whose MNIST training files are real and whose test files are garbage.

    Loading the test split from it fails (wrong size), so a search that finishes on this
    root has not loaded the test set.
    """
    root = tmp_path_factory.mktemp("train_only")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for spec in RAW_FILES["MNIST"]:
        if spec.filename.startswith("train-"):
            (raw / spec.filename).symlink_to(mnist_root / "MNIST" / "raw" / spec.filename)
        else:
            (raw / spec.filename).write_bytes(b"not the test set")
    return root


SMALL = ["--train-subset", "1000", "--val-size", "500", "--threads", "1"]
"""Options that keep a test search small."""


def child_env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("TINYCONV_DATA", None)  # every command names its --data-dir
    return env


def tinyconv_command(*args: str | os.PathLike[str]) -> list[str]:
    return [sys.executable, "-m", "tinyconv", *map(str, args)]


def run_tinyconv(
    *args: str | os.PathLike[str], timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run the tinyconv command in a fresh process; return its result (text output)."""
    return subprocess.run(
        tinyconv_command(*args),
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=timeout,
        check=False,
    )
