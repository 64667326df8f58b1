"""Small real inputs for the figure tests: a results file of real runs, a tiny trained model."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
import torch

import tinyconv as tc
from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.train import TrainConfig, fit

matplotlib.use("Agg")  # no display anywhere in these tests

REPO_ROOT = Path(__file__).resolve().parents[2]
V5_RESULTS = REPO_ROOT / "results" / "mnist_v5.json"


@pytest.fixture(scope="session")
def tiny_model(mnist_train: ImageDataset) -> tc.TinyNet:
    """An SE model trained for one epoch on 6,000 real MNIST images (about 2 s on a CPU)."""
    torch.manual_seed(0)
    model = tc.build(
        [
            tc.ConvSpec(out_channels=8),
            tc.TransitionSpec(out_channels=8),
            tc.ConvSpec(out_channels=12),
            tc.SESpec(rd_channels=4),
            tc.GAPHeadSpec(num_classes=10),
        ],
        seed=0,
    )
    loader = TensorLoader(mnist_train.subset(range(6000)), 64, shuffle=True, seed=0)
    config = TrainConfig(epochs=1, batch_size=64, lr=0.05, device="cpu", progress=False)
    fit(model, loader, config)
    model.class_names = mnist_train.class_names
    model.normalization = mnist_train.normalization.to_dict()
    model.dataset = "mnist"
    return model.eval()


@pytest.fixture(scope="session")
def tiny_model_file(tiny_model: tc.TinyNet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.model.pt"
    return tc.save(tiny_model, path, metadata={"name": "tiny", "max_params": 8000})


@pytest.fixture(scope="session")
def mnist_test_subset(mnist_test: ImageDataset) -> ImageDataset:
    return mnist_test.subset(range(2000))
