from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyconv.data import Crop
from tinyconv.data.augment_specs import augment_from_dict, make_augmentation
from tinyconv.data.crop import RandomCrop, random_crop


@settings(max_examples=30, deadline=None)
@given(
    channels=st.integers(1, 4),
    padding=st.integers(0, 3),
    size=st.integers(3, 9),
    seed=st.integers(0, 10_000),
)
def test_each_image_is_a_window_of_its_padded_self(channels, padding, size, seed):
    images = torch.rand(5, channels, size, size + 1, generator=torch.Generator().manual_seed(seed))
    out = random_crop(images, padding, fill=0.25, generator=torch.Generator().manual_seed(seed))
    padded = F.pad(images, (padding,) * 4, value=0.25)
    for image, result in zip(padded, out, strict=True):
        windows = [
            image[:, dy : dy + size, dx : dx + size + 1]
            for dy in range(2 * padding + 1)
            for dx in range(2 * padding + 1)
        ]
        assert any(torch.equal(window, result) for window in windows)


def test_the_same_generator_gives_the_same_crops_and_the_spec_round_trips():
    images = torch.rand(4, 3, 8, 8)
    first = RandomCrop(2)(images, torch.Generator().manual_seed(1))
    assert torch.equal(first, RandomCrop(2)(images, torch.Generator().manual_seed(1)))
    spec = augment_from_dict(Crop(padding=2, fill=0.5).to_dict())
    assert spec == Crop(padding=2, fill=0.5)
    augment = make_augmentation([spec])
    assert augment(images, torch.Generator().manual_seed(0)).shape == images.shape
    with pytest.raises(ValueError, match="padding must be an int >= 0"):
        RandomCrop(-1)
