"""Shared fixtures: where the real MNIST files are, and loaded splits (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tinyconv.data import ImageDataset, load_dataset
from tinyconv.data.checksums import RAW_FILES

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path:
    """TINYCONV_DATA if set, else <repo>/../shared/data (the offline mirror), resolved.

    Resolved where it enters, so a relative TINYCONV_DATA (the Makefile's default
    ``../shared/data``) or one through a symlink works in every test that copies or
    links files from it.
    """
    root = os.environ.get("TINYCONV_DATA") or REPO_ROOT.parent / "shared" / "data"
    return Path(root).expanduser().resolve()


def _root_with(folder: str) -> Path:
    root = shared_data_root()
    missing = [
        spec.filename
        for spec in RAW_FILES[folder]
        if not (root / folder / "raw" / spec.filename).is_file()
    ]
    if missing:
        message = (
            f"real {folder} files absent under {root / folder / 'raw'} "
            f"(missing {missing}); set TINYCONV_DATA"
        )
        if os.environ.get("CI"):  # CI has the data: its absence is a failure, not a skip
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    return _root_with("MNIST")


@pytest.fixture(scope="session")
def fashion_root() -> Path:
    return _root_with("FashionMNIST")


@pytest.fixture(scope="session")
def mnist_train(mnist_root: Path) -> ImageDataset:
    return load_dataset("mnist", mnist_root, train=True)


@pytest.fixture(scope="session")
def mnist_test(mnist_root: Path) -> ImageDataset:
    return load_dataset("mnist", mnist_root, train=False)
