from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torchvision

from tinyconv.data import (
    DatasetNotFoundError,
    ImageDataset,
    dataset_info,
    load_dataset,
    resolve_data_root,
)
from tinyconv.data.checksums import RAW_FILES
from tinyconv.data.errors import CorruptDatasetError
from tinyconv.data.mnist import load_fashion_mnist, load_mnist

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- resolve_data_root ---------------------------------------------------------------


def test_root_argument_wins_over_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TINYCONV_DATA", "/from/env")
    assert resolve_data_root(tmp_path) == tmp_path
    assert resolve_data_root() == Path("/from/env")


def test_root_falls_back_to_dot_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TINYCONV_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_data_root() == tmp_path / "data"
    monkeypatch.setenv("TINYCONV_DATA", "")
    assert resolve_data_root() == tmp_path / "data"


# --- missing files ----------------------------------------------------------------------


def test_missing_root_error_names_every_expected_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError) as caught:
        load_dataset("mnist", tmp_path)
    message = str(caught.value)
    for spec in RAW_FILES["MNIST"][:2]:  # the training split's two files
        assert str(tmp_path / "MNIST" / "raw" / spec.filename) in message
    assert "2 of the train split's 2 raw files are missing" in message
    assert "TINYCONV_DATA" in message and "--data-dir" in message and "download=True" in message
    assert isinstance(caught.value, FileNotFoundError)


def test_missing_error_uses_environment_root(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TINYCONV_DATA", str(tmp_path / "elsewhere"))
    with pytest.raises(DatasetNotFoundError, match="elsewhere/FashionMNIST/raw/train-images"):
        load_fashion_mnist()


def test_pointing_at_the_dataset_folder_itself_gets_a_hint(tmp_path: Path) -> None:
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError, match="looks like the 'MNIST' folder itself"):
        load_mnist(tmp_path / "MNIST")


def test_unknown_dataset_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"known datasets: mnist, fashion_mnist"):
        load_dataset("cifar10", tmp_path)  # type: ignore[arg-type]


def test_failed_download_becomes_dataset_not_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Port 9 (discard) on localhost refuses at once: a network failure with no network needed.
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", ["http://127.0.0.1:9/"])
    started = time.perf_counter()
    with pytest.raises(DatasetNotFoundError) as caught:
        load_mnist(tmp_path, download=True)
    assert time.perf_counter() - started < 10
    message = str(caught.value)
    assert "downloading it failed" in message and "TINYCONV_DATA" in message
    assert str(tmp_path) in message
    assert socket.getdefaulttimeout() is None  # the download timeout was restored


def test_download_without_network_raises_dataset_not_found(tmp_path: Path) -> None:
    host = "ossci-datasets.s3.amazonaws.com"
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        pass  # offline, as expected on these machines: the real mirrors fail fast
    else:
        pytest.skip(f"{host} resolves: this test would really download MNIST")
    started = time.perf_counter()
    with pytest.raises(DatasetNotFoundError, match="downloading it failed"):
        load_mnist(tmp_path, download=True)
    assert time.perf_counter() - started < 10


# --- real data --------------------------------------------------------------------------


@pytest.mark.mnist
def test_mnist_sizes_label_counts_and_layout(
    mnist_train: ImageDataset, mnist_test: ImageDataset
) -> None:
    for data, size, counts in (
        (mnist_train, 60_000, MNIST_TRAIN_COUNTS),
        (mnist_test, 10_000, MNIST_TEST_COUNTS),
    ):
        assert data.images.shape == (size, 1, 28, 28)
        assert data.images.dtype == torch.uint8 and data.images.is_contiguous()
        assert data.labels.shape == (size,) and data.labels.dtype == torch.int64
        assert data.class_counts().tolist() == counts
        assert data.class_names == tuple("0123456789")
        assert (data.name, data.mean, data.std) == ("mnist", (0.1307,), (0.3081,))


@pytest.mark.mnist
def test_mnist_stats_match_the_data(mnist_train: ImageDataset) -> None:
    pixels = mnist_train.images.double() / 255
    assert pixels.mean().item() == pytest.approx(dataset_info("mnist").mean[0], abs=5e-5)
    assert pixels.std().item() == pytest.approx(dataset_info("mnist").std[0], abs=5e-5)


@pytest.mark.mnist
def test_fashion_mnist_sizes_counts_and_stats(fashion_root: Path) -> None:
    train = load_fashion_mnist(fashion_root)
    test = load_dataset("fashion_mnist", fashion_root, train=False)
    assert train.class_counts().tolist() == [6000] * 10
    assert test.class_counts().tolist() == [1000] * 10
    assert train.class_names[0] == "T-shirt/top" and train.class_names[9] == "Ankle boot"
    pixels = train.images.double() / 255
    assert pixels.mean().item() == pytest.approx(train.mean[0], abs=5e-5)
    assert pixels.std().item() == pytest.approx(train.std[0], abs=5e-5)


@pytest.fixture
def mnist_copy(mnist_root: Path, tmp_path: Path) -> Path:
    """A data root whose t10k files are private copies; the train files are symlinks."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for spec in RAW_FILES["MNIST"]:
        source = mnist_root / "MNIST" / "raw" / spec.filename
        if spec.filename.startswith("t10k-"):
            shutil.copyfile(source, raw / spec.filename)
        else:
            (raw / spec.filename).symlink_to(source)
    return tmp_path


@pytest.mark.mnist
def test_intact_copy_loads(mnist_copy: Path) -> None:
    assert len(load_mnist(mnist_copy, train=False)) == 10_000


@pytest.mark.mnist
def test_truncated_file_raises_corrupt_dataset(mnist_copy: Path) -> None:
    path = mnist_copy / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    with path.open("r+b") as handle:
        handle.truncate(1_000_000)
    with pytest.raises(CorruptDatasetError, match="truncated") as caught:
        load_mnist(mnist_copy, train=False)
    assert str(path) in str(caught.value) and "7,840,016" in str(caught.value)
    with pytest.raises(CorruptDatasetError, match="Could not parse"):
        load_mnist(mnist_copy, train=False, verify=False)


@pytest.mark.mnist
def test_flipped_byte_raises_corrupt_dataset(mnist_copy: Path) -> None:
    path = mnist_copy / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    payload = bytearray(path.read_bytes())
    payload[5000] ^= 0x01
    path.write_bytes(bytes(payload))
    with pytest.raises(CorruptDatasetError, match="27ae3e4e09519cfbb04c329615203637"):
        load_mnist(mnist_copy, train=False)
    assert len(load_mnist(mnist_copy, train=False, verify=False)) == 10_000
    assert len(load_mnist(mnist_copy, train=True)) == 60_000  # only the split's files are checked


def test_a_relative_or_symlinked_root_resolves_to_the_real_folder(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    monkeypatch.chdir(tmp_path)
    assert resolve_data_root("link") == real.resolve()
    assert resolve_data_root("./real/../link") == real.resolve()
    monkeypatch.setenv("TINYCONV_DATA", "link")
    assert resolve_data_root() == real.resolve()


@pytest.mark.mnist
def test_the_file_copying_tests_pass_with_a_relative_data_root(mnist_root: Path) -> None:
    """The README's `make test` passes the relative ../shared/data: the tests that copy and
    link the raw files must work with it (they once made dangling relative symlinks)."""
    repo = Path(__file__).resolve().parents[2]
    relative = os.path.relpath(mnist_root, repo)
    assert not Path(relative).is_absolute()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
         "-k", "intact_copy or truncated or flipped_byte"],
        cwd=repo, env={**os.environ, "TINYCONV_DATA": relative}, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


# --- only the files a call reads -----------------------------------------------------------


@pytest.fixture
def train_only_root(mnist_root: Path, tmp_path: Path) -> Path:
    """A data root holding MNIST's two training files and nothing else (symlinks)."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for spec in RAW_FILES["MNIST"][:2]:
        (raw / spec.filename).symlink_to(mnist_root / "MNIST" / "raw" / spec.filename)
    return tmp_path


@pytest.mark.mnist
def test_a_root_with_only_the_training_files_serves_the_training_split(
    train_only_root: Path,
) -> None:
    assert len(load_mnist(train_only_root)) == 60_000
    with pytest.raises(DatasetNotFoundError, match="2 of the test split's 2 raw files") as caught:
        load_mnist(train_only_root, train=False)
    assert "t10k-images-idx3-ubyte" in str(caught.value)
    assert "train-images" not in str(caught.value)  # only the files this call reads


@pytest.mark.mnist
def test_a_search_needs_only_the_training_files(train_only_root: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tinyconv", "search", "mnist", "--trials", "1", "--epochs", "1",
         "--train-subset", "200", "--val-size", "100", "--out", str(tmp_path / "s"),
         "--data-dir", str(train_only_root), "--sampler-seed", "0"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "trials: 1 complete" in result.stdout


def test_pointing_at_the_raw_folder_gets_a_hint_too(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    with pytest.raises(DatasetNotFoundError) as caught:
        load_mnist(raw)
    assert f"is the 'MNIST/raw' folder itself; pass {tmp_path}." in str(caught.value)


@pytest.mark.mnist
def test_the_idx_reader_gives_torchvisions_tensors(mnist_root: Path) -> None:
    ours = load_mnist(mnist_root, train=False)
    theirs = torchvision.datasets.MNIST(str(mnist_root), train=False, download=False)
    assert torch.equal(ours.images[:, 0], theirs.data) and torch.equal(ours.labels, theirs.targets)
