from __future__ import annotations

from pathlib import Path

import pytest
import torch

import tinyconv as tc
from tinyconv.data import ImageDataset, Normalization, score_images
from tinyconv.train import predict


def rgb_model() -> tc.TinyNet:
    model = tc.build(
        [tc.ConvSpec(out_channels=4, norm=False), tc.GAPHeadSpec(num_classes=3)],
        in_channels=3,
        input_size=(8, 8),
        seed=0,
    )
    model.normalization = {"mean": [0.2, 0.5, 0.7], "std": [0.1, 0.2, 0.3]}
    return model.eval()


def rgb_images(count: int = 12) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (count, 3, 8, 8), generator=generator, dtype=torch.uint8)


def test_a_loaded_model_predicts_with_its_own_normalisation(tmp_path: Path) -> None:
    path = tc.save(rgb_model(), tmp_path / "rgb.model.pt")
    model, images = tc.load(path), rgb_images()
    expected = predict(model, images, mean=[0.2, 0.5, 0.7], std=[0.1, 0.2, 0.3])
    assert torch.equal(predict(model, images), expected)
    by_hand = model(Normalization((0.2, 0.5, 0.7), (0.1, 0.2, 0.3)).apply(images)).argmax(1)
    assert torch.equal(expected, by_hand)


def test_predict_agrees_with_score_images_per_channel() -> None:
    model, images = rgb_model(), rgb_images()
    data = ImageDataset(images, torch.arange(12) % 3, "rgb", ("a", "b", "c"), 0.5, 0.5)
    assert torch.equal(score_images(model, data).predicted, predict(model, images))


def test_a_model_without_a_normalisation_needs_mean_and_std() -> None:
    model = tc.build([tc.ConvSpec(out_channels=4), tc.GAPHeadSpec(num_classes=3)], seed=0)
    with pytest.raises(ValueError, match="records no normalisation; pass mean= and std="):
        predict(model, torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(ValueError, match="give both mean and std"):
        predict(model, torch.zeros(2, 1, 28, 28, dtype=torch.uint8), mean=0.5)
