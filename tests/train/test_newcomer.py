"""The trainer on a newcomer's first hour: no silent overwrite, clear errors for labels and
dtypes, and visible progress (a line per epoch off a terminal, a bar on one)."""

import os
import pty
import subprocess
import sys
import textwrap

import pytest
import torch

from tinyconv import ConvSpec, GAPHeadSpec, build
from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.train import CheckpointExistsError, fit, load_checkpoint

from .helpers import make_loader, make_model, quick_config


def test_an_existing_checkpoint_is_not_overwritten_by_a_new_run(tmp_path):
    path = tmp_path / "last.pt"
    fit(make_model(), make_loader(), quick_config(epochs=2), checkpoint_path=path)
    before = path.read_bytes()
    with pytest.raises(CheckpointExistsError, match=r"already exists; pass resume=True .*"):
        fit(make_model(), make_loader(), quick_config(epochs=1), checkpoint_path=path)
    assert path.read_bytes() == before and load_checkpoint(path).epoch == 2
    fit(make_model(), make_loader(), quick_config(epochs=1), checkpoint_path=path, overwrite=True)
    assert load_checkpoint(path).epoch == 1


def ten_class_images(count: int = 64) -> ImageDataset:
    generator = torch.Generator().manual_seed(0)
    return ImageDataset(
        images=torch.randint(0, 255, (count, 1, 28, 28), generator=generator, dtype=torch.uint8),
        labels=torch.arange(count) % 10,
        name="noise",
        class_names=tuple(str(i) for i in range(10)),
        mean=0.5,
        std=0.3,
    )


def five_class_model() -> torch.nn.Module:
    return build([ConvSpec(out_channels=4, stride=2), GAPHeadSpec(num_classes=5)], seed=0)


def test_labels_outside_the_heads_classes_are_named_before_training():
    loader = TensorLoader(ten_class_images(), 16)
    with pytest.raises(ValueError, match=r"holds label 9 but the model has 5 outputs.*=10"):
        fit(five_class_model(), loader, quick_config(epochs=1))


def test_labels_outside_the_heads_classes_are_named_for_any_loader():
    x, y = torch.randn(16, 1, 28, 28), torch.arange(16) % 10
    with pytest.raises(ValueError, match=r"model has 5 outputs .* but label 9 was seen"):
        fit(five_class_model(), [(x, y)], quick_config(epochs=1))


def test_uint8_images_are_named_with_the_fix():
    x, y = torch.zeros(16, 1, 28, 28, dtype=torch.uint8), torch.arange(16) % 5
    with pytest.raises(ValueError, match=r"dtype torch.uint8; convert uint8 pixels with .*/ 255"):
        fit(five_class_model(), [(x, y)], quick_config(epochs=1))


def test_one_line_per_epoch_when_stderr_is_not_a_terminal(capsys):
    fit(make_model(), make_loader(), quick_config(epochs=2, progress=None))
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split()[0:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert all("train_loss=" in line and "img/s" in line and "lr=" in line for line in lines)


def test_nothing_is_printed_when_progress_is_false(capsys):
    fit(make_model(), make_loader(), quick_config(epochs=2, progress=False))
    assert capsys.readouterr().err == ""


SCRIPT = textwrap.dedent(
    """
    import torch
    from torch import nn
    from tinyconv.train import TrainConfig, fit
    x, y = torch.randn(64, 4), torch.arange(64) % 2
    loader = [(x[:32], y[:32]), (x[32:], y[32:])]
    fit(nn.Linear(4, 2), loader, TrainConfig(epochs=2, batch_size=32, device="cpu"),
        eval_loader=loader, label="seed 7 (2 of 3)")
    """
)


def test_a_bar_on_a_pseudo_terminal():
    """On a terminal (even one that reports 0 columns) the default shows a tqdm bar."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": ""},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=60) == 0
    screen = b"".join(chunks).decode(errors="replace")
    assert "epoch 1/2: 100%" in screen and "epoch 2/2: 100%" in screen, screen
    # the evaluation's accuracy, which seed of how many, and the time left stay on screen
    assert "seed 7 (2 of 3): epoch 2/2" in screen and "val_acc=" in screen, screen
    assert " left" in screen, screen
