from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyconv.data import ImageDataset, Normalization, TensorLoader


def images_of(channels: int, count: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, channels, 5, 7), generator=generator, dtype=torch.uint8)


@settings(max_examples=40, deadline=None)
@given(channels=st.integers(1, 4), count=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_statistics_equal_a_direct_float64_computation(channels, count, seed):
    images = images_of(channels, count, seed)
    if any(images[:, c].min() == images[:, c].max() for c in range(channels)):
        return  # a constant channel is refused (tested below)
    norm = Normalization.from_images(images)
    pixels = images.double() / 255
    for c in range(channels):
        assert norm.mean[c] == pytest.approx(pixels[:, c].mean().item(), rel=1e-12)
        assert norm.std[c] == pytest.approx(pixels[:, c].std(correction=0).item(), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(channels=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_apply_normalises_each_channel_by_its_own_statistics(channels, seed):
    images = images_of(channels, 3, seed)
    mean = tuple(0.1 * (c + 1) for c in range(channels))
    std = tuple(0.2 + 0.05 * c for c in range(channels))
    out = Normalization(mean, std).apply(images)
    for c in range(channels):
        expected = (images[:, c].float() / 255 - mean[c]) / std[c]
        torch.testing.assert_close(out[:, c], expected, rtol=0, atol=1e-6)


def test_one_shared_value_computes_exactly_as_python_scalars_did():
    """MNIST's (0.1307, 0.3081): the arithmetic of tinyconv 0.2's loader, bit for bit."""
    images = images_of(1, 16, 3)
    old = (images.to(torch.float32).div_(255.0) - 0.1307) / 0.3081
    assert torch.equal(Normalization(0.1307, 0.3081).apply(images), old)


def test_a_constant_channel_is_refused_with_the_fix():
    images = images_of(2, 4, 0)
    images[:, 1] = 7
    with pytest.raises(ValueError, match="channel 1 of the images is constant"):
        Normalization.from_images(images)


@pytest.mark.parametrize(
    ("mean", "std", "match"),
    [
        ((0.5, 0.5), (0.2,), "2 mean"),
        ((0.5,), (0.0,), "std must be > 0"),
        ((float("nan"),), (1,), "finite"),
    ],
)
def test_malformed_statistics_are_refused(mean, std, match):
    with pytest.raises(ValueError, match=match):
        Normalization(mean, std)


def test_round_trip_and_what_a_model_records():
    norm = Normalization((0.4, 0.5, 0.6), (0.2, 0.25, 0.3))
    assert Normalization.from_dict(norm.to_dict()) == norm
    model = torch.nn.Identity()
    assert Normalization.of_model(model) is None
    model.normalization = norm.to_dict()
    assert Normalization.of_model(model) == norm


def test_the_loader_normalises_rgb_per_channel():
    images = images_of(3, 6, 1)
    data = ImageDataset(
        images, torch.zeros(6, dtype=torch.long), "rgb", ("a",), (0.2, 0.4, 0.6), (0.1, 0.2, 0.3)
    )
    ((x, _),) = list(TensorLoader(data, batch_size=6))
    torch.testing.assert_close(x, Normalization(data.mean, data.std).apply(images), rtol=0, atol=0)
    assert data.normalization.channels == 3
