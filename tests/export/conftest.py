"""A small V5-like model trained on real MNIST in a few seconds, shared by the export tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import tinyconv
from tinyconv import ConvSpec, GAPHeadSpec, SESpec, TransitionSpec
from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.train import TrainConfig, fit

# The V5 layout (examples/mnist_v5.py): Conv -> ReLU -> BN -> Dropout blocks, a
# transition, squeeze-excitation on the last block and a GAP head.
V5_LIKE = (
    ConvSpec(out_channels=8, dropout=0.05),
    ConvSpec(out_channels=12, dropout=0.05),
    TransitionSpec(out_channels=8),
    ConvSpec(out_channels=12, dropout=0.05),
    ConvSpec(out_channels=16, dropout=0.05),
    ConvSpec(out_channels=16, dropout=0.05),
    SESpec(rd_channels=4),
    GAPHeadSpec(num_classes=10),
)
TEST_IMAGES = 500


def normalise(data: ImageDataset, count: int) -> torch.Tensor:
    return (data.images[:count].float() / 255 - data.mean[0]) / data.std[0]


def briefly_trained(specs: tuple, mnist_train: ImageDataset) -> tinyconv.TinyNet:
    """``specs`` built with seed 0 and trained one epoch of Adam on 2,000 real MNIST images."""
    model = tinyconv.build(specs, seed=0)
    loader = TensorLoader(mnist_train.subset(list(range(2000))), 32, shuffle=True, seed=0)
    config = TrainConfig(
        epochs=1, batch_size=32, optimizer="adam", lr=0.01, device="cpu", progress=False
    )
    fit(model, loader, config)
    model.eval()
    model.normalization = mnist_train.normalization.to_dict()
    model.dataset = "mnist"
    return model


@pytest.fixture(scope="session")
def trained_v5(mnist_train: ImageDataset) -> tinyconv.TinyNet:
    """The V5-like model trained briefly: about 85 % test accuracy, ~2 s."""
    return briefly_trained(V5_LIKE, mnist_train)


@pytest.fixture(scope="session")
def v5_file(trained_v5: tinyconv.TinyNet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "v5.model.pt"
    tinyconv.save(trained_v5, path)
    return path


@pytest.fixture(scope="session")
def test_images(mnist_test: ImageDataset) -> tuple[torch.Tensor, torch.Tensor]:
    return normalise(mnist_test, TEST_IMAGES), mnist_test.labels[:TEST_IMAGES]
