from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyconv.data import Affine, Crop, HorizontalFlip, Rotation
from tinyconv.data.augment import RandomAffine, RandomRotation, random_affine, random_rotate
from tinyconv.data.augment_specs import make_augmentation
from tinyconv.data.warp import rotate_batch


def digit_like(batch: int = 4) -> torch.Tensor:
    images = torch.zeros(batch, 1, 28, 28)
    images[:, :, 6:22, 12:15] = 1.0
    images[:, :, 6:9, 9:15] = 0.8  # a '1' with a flag: not rotation-symmetric
    return images


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    degrees=st.floats(0, 180),
    interpolation=st.sampled_from(["nearest", "bilinear"]),
)
def test_same_seed_same_output(seed: int, degrees: float, interpolation: str) -> None:
    images = digit_like()
    first = random_rotate(images, degrees, generator=seeded(seed), interpolation=interpolation)  # type: ignore[arg-type]
    again = random_rotate(images, degrees, generator=seeded(seed), interpolation=interpolation)  # type: ignore[arg-type]
    assert torch.equal(first, again)
    assert first.shape == images.shape and first.dtype == images.dtype


def test_different_seeds_and_images_get_different_angles() -> None:
    images = digit_like(8)
    first = random_rotate(images, 45, generator=seeded(0))
    assert not torch.equal(first, random_rotate(images, 45, generator=seeded(1)))
    assert len({tuple(image.flatten().tolist()) for image in first}) == 8


def test_degenerate_ranges_pin_the_angle() -> None:
    images = digit_like()
    assert torch.equal(random_rotate(images, 0, generator=seeded(0)), images)
    assert torch.equal(
        random_rotate(images, (90, 90), generator=seeded(0)), torch.rot90(images, 1, dims=(2, 3))
    )
    assert torch.equal(
        random_rotate(images, (30.0, 30.0), fill=0.2), rotate_batch(images, 30.0, fill=0.2)
    )


def test_angles_stay_inside_the_range() -> None:
    # One bright pixel right of centre: after rotating by a in [20, 40] (counter-clockwise)
    # it lies up and to the right, at an angle of about 20..40 degrees above the x axis.
    images = torch.zeros(64, 1, 41, 41)
    images[:, 0, 20, 35] = 1.0
    rotated = random_rotate(images, (20, 40), generator=seeded(3))
    rows, cols = torch.nonzero(rotated[:, 0] == 1.0, as_tuple=True)[1:]
    angles = torch.rad2deg(torch.atan2(20.0 - rows.double(), cols.double() - 20.0))
    assert angles.min() > 20 - 5 and angles.max() < 40 + 5


def test_module_form_equals_functional_form() -> None:
    images = digit_like()
    rotation = RandomRotation(15, fill=0.1)
    assert torch.equal(
        rotation(images, seeded(5)), random_rotate(images, 15, fill=0.1, generator=seeded(5))
    )
    assert (
        repr(rotation) == "RandomRotation(degrees=(-15.0, 15.0), fill=0.1, interpolation='nearest')"
    )
    affine = RandomAffine((-5, 5), translate=(0.1, 0.2), scale=(0.9, 1.1))
    assert torch.equal(
        affine(images, seeded(2)),
        random_affine(images, (-5, 5), (0.1, 0.2), (0.9, 1.1), generator=seeded(2)),
    )


def test_translation_only_affine_shifts_by_whole_pixels_within_range() -> None:
    images = digit_like(16)
    moved = random_affine(images, 0, translate=(0.1, 0.1), generator=seeded(0))
    shifts = []
    for original, shifted in zip(images, moved, strict=True):
        matches = [
            (dx, dy)
            for dx in range(-3, 4)
            for dy in range(-3, 4)
            if torch.equal(torch.roll(original, (dy, dx), dims=(1, 2)), shifted)
        ]
        assert matches, "each image must be an integer shift of its source"
        shifts.append(matches[0])
    assert len(set(shifts)) > 1  # per-image shifts


def test_global_rng_is_used_without_generator() -> None:
    images = digit_like()
    torch.manual_seed(0)
    first = random_rotate(images, 30)
    torch.manual_seed(0)
    assert torch.equal(random_rotate(images, 30), first)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x: random_rotate(x, -5), ">= 0"),
        (lambda x: random_rotate(x, (10, -10)), "min <= max"),
        (lambda x: random_affine(x, 0, translate=(1.5, 0.0)), r"\[0, 1\]"),
        (lambda x: random_affine(x, 0, scale=(0.0, 1.0)), "0 < min <= max"),
        (lambda x: RandomRotation(5, interpolation="area"), "'area'"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_are_rejected(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=match):
        call(digit_like())


@pytest.mark.parametrize(
    "specs",
    [
        (Rotation(degrees=15.0, fill=0.2),),
        (Affine(degrees=10.0, translate=(0.1, 0.1), scale=(0.9, 1.1)),),
        (HorizontalFlip(p=0.5), Crop(padding=3, fill=0.1)),
    ],
)
def test_augmentations_move_every_channel_alike_and_mix_no_colours(specs) -> None:
    """Colour images: each channel is transformed as a one-channel image with the same draws."""
    augment = make_augmentation(specs)
    images = torch.rand(6, 3, 12, 12, generator=torch.Generator().manual_seed(0))
    out = augment(images, torch.Generator().manual_seed(7))
    for channel in range(3):
        alone = augment(images[:, channel : channel + 1], torch.Generator().manual_seed(7))
        assert torch.equal(out[:, channel : channel + 1], alone)
