"""``tinyconv study`` in a real subprocess: a short run, its help, and one line per bad option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from .conftest import assert_one_error_line

pytestmark = pytest.mark.mnist


def test_a_short_study_trains_records_and_says_what_it_did(
    tinyconv_command, mnist_root: Path, tmp_path: Path
) -> None:
    done = tinyconv_command(
        "study", "mnist_v5", "--epochs", "1", "--train-subset", "500", "--seeds", "2",
        "--threads", "1", "--data-dir", str(mnist_root), "--out", str(tmp_path),
        "--seeds-after", "5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "seed 0: training 1 epoch\n" in done.stdout and "1 epochs" not in done.stdout
    assert "study: about" in done.stdout  # the time left, after the first of two seeds
    assert "job: about" in done.stdout and "left for 6 more seed(s), 5 of them" in done.stdout
    assert "seed 1 (2 of 2): epoch 1/1" in done.stderr  # progress lines name the seed
    record = json.loads((tmp_path / "mnist_v5_train500.json").read_text())
    assert sorted(record["seeds"]) == ["0", "1"]
    assert record["recipe"]["train"]["epochs"] == 1
    assert record["recipe"]["train"]["step_size"] == 1  # the schedule follows --epochs
    assert "mnist_v5_train500: 2 seed(s), 6,364 params, 1 epoch on 500 images" in done.stdout


def test_help_shows_the_defaults(tinyconv_command) -> None:
    done = tinyconv_command("study", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "(default: runs)" in text and "run seeds first..first+N-1 (default: 1)" in text


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--epochs", "0"], ["--epochs", "at least 1"]),
        (["--seeds", "0"], ["--seeds"]),
        (["--threads", "0"], ["--threads"]),
        (["--train-subset", "0"], ["--train-subset"]),
        (["--train-subset", "99999999"], ["--train-subset", "60,000"]),
        (["--device", "gpu"], ["'gpu'", "cpu"]),
        (["--stack", "2", "--workers", "2"], ["--stack", "--workers"]),
        (["--seeds-after", "-1"], ["--seeds-after", "at least 0"]),
    ],
)
def test_a_bad_option_is_one_error_line(
    tinyconv_command, mnist_root: Path, tmp_path: Path, options: list[str], words: list[str]
) -> None:
    done = tinyconv_command(
        "study", "mnist_v5", *options, "--data-dir", str(mnist_root), "--out", str(tmp_path)
    )
    assert_one_error_line(done, *words)
    assert not (tmp_path / "mnist_v5.json").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_on_a_machine_without_it_is_one_error_line(tinyconv_command, tmp_path: Path) -> None:
    done = tinyconv_command("study", "mnist_v5", "--device", "cuda", "--out", str(tmp_path))
    assert_one_error_line(done, "CUDA is not available", "'cpu'")


def test_an_out_that_is_a_file_is_one_error_line_before_training(
    tinyconv_command, mnist_root: Path, tmp_path: Path
) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    done = tinyconv_command(
        "study", "mnist_v5", "--epochs", "1", "--train-subset", "100",
        "--data-dir", str(mnist_root), "--out", str(taken),
    )  # fmt: skip
    assert_one_error_line(done, "notes.txt", "is a file")
    assert taken.read_text() == "mine"
