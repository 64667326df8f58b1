"""Shared helpers for the trainer tests: a tiny model and synthetic, learnable data."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from tinyconv.train import EpochRecord, TrainConfig

NUM_CLASSES = 3
IMAGE_SIZE = 6


def make_model(seed: int = 0, *, dropout: float = 0.0) -> nn.Sequential:
    """A tiny conv classifier for ``[B, 1, 6, 6]`` images, initialised from ``seed``."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Flatten(),
        nn.Linear(4 * IMAGE_SIZE * IMAGE_SIZE, NUM_CLASSES),
    )


def make_data(num_samples: int = 96, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Images whose class decides which third of the rows is bright, plus noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_samples) % NUM_CLASSES
    images = 0.3 * torch.randn(num_samples, 1, IMAGE_SIZE, IMAGE_SIZE, generator=generator)
    rows = IMAGE_SIZE // NUM_CLASSES
    for c in range(NUM_CLASSES):
        images[labels == c, :, c * rows : (c + 1) * rows, :] += 1.0
    return images, labels


class ListLoader:
    """A duck-typed loader over fixed batches that records ``set_epoch`` calls."""

    def __init__(self, batches: list[tuple[Tensor, Tensor]], batch_size: int | None = None):
        self.batches = batches
        self.batch_size = batch_size
        self.epochs_seen: list[int] = []

    def set_epoch(self, epoch: int) -> None:
        self.epochs_seen.append(epoch)

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return iter(self.batches)


def make_loader(num_samples: int = 96, batch_size: int = 16, seed: int = 0) -> ListLoader:
    images, labels = make_data(num_samples, seed)
    batches = list(zip(images.split(batch_size), labels.split(batch_size), strict=True))
    return ListLoader(batches, batch_size)


def quick_config(**overrides: object) -> TrainConfig:
    """A CPU config without progress bar, for small fast runs."""
    values: dict[str, object] = {
        "epochs": 2,
        "batch_size": 16,
        "lr": 0.1,
        "device": "cpu",
        "progress": False,
    }
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


def record(
    epoch: int,
    eval_loss: float | None = 0.5,
    eval_acc: float | None = 0.9,
    eval_name: str | None = "val",
    **overrides: object,
) -> EpochRecord:
    """An epoch record with plausible numbers; keyword overrides replace any field."""
    values: dict[str, object] = {
        "epoch": epoch,
        "train_loss": 1.0 / epoch,
        "train_acc": 0.5,
        "eval_loss": eval_loss,
        "eval_acc": eval_acc,
        "eval_name": eval_name,
        "lr": 0.1,
        "seconds": 1.25,
        "images_per_sec": 1000.0,
    }
    values.update(overrides)
    return EpochRecord(**values)  # type: ignore[arg-type]
