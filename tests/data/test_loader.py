from __future__ import annotations

import pytest
import torch

from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.data.augment import RandomRotation


def make(n: int = 10) -> ImageDataset:
    """Image i has every pixel equal to i, label i % 3."""
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 4, 4).clone()
    return ImageDataset(images, torch.arange(n) % 3, "toy", ("a", "b", "c"), 0.0, 1.0)


def served_ids(loader: TensorLoader) -> list[list[int]]:
    """The sample ids of every batch of one pass (needs normalize=False or mean 0, std 1)."""
    return [(x[:, 0, 0, 0] * 255).round().long().tolist() for x, _ in loader]


def test_batches_cover_every_sample_once_with_matching_labels() -> None:
    loader = TensorLoader(make(10), 4, shuffle=True, seed=1)
    batches = []
    for x, y in loader:
        ids = (x[:, 0, 0, 0] * 255).round().long()
        assert y.tolist() == (ids % 3).tolist()
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        batches.append(ids.tolist())
    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert sorted(sample for batch in batches for sample in batch) == list(range(10))
    assert len(loader) == 3 and loader.num_samples == 10 and loader.batch_size == 4


def test_no_shuffle_keeps_dataset_order() -> None:
    assert served_ids(TensorLoader(make(5), 2)) == [[0, 1], [2, 3], [4]]


def test_order_is_a_function_of_seed_and_epoch_only() -> None:
    first, second = TensorLoader(make(50), 8, shuffle=True), TensorLoader(make(50), 8, shuffle=True)
    first.set_epoch(3)
    second.set_epoch(3)
    assert served_ids(first) == served_ids(second)
    first.set_epoch(3)
    epoch_three = served_ids(first)
    first.set_epoch(4)
    assert served_ids(first) != epoch_three
    other_seed = TensorLoader(make(50), 8, shuffle=True, seed=9)
    other_seed.set_epoch(3)
    assert served_ids(other_seed) != epoch_three


def test_passes_without_set_epoch_advance_the_epoch() -> None:
    loader = TensorLoader(make(50), 50, shuffle=True)
    assert loader.epoch == 0
    first_pass, second_pass = served_ids(loader), served_ids(loader)
    assert first_pass != second_pass and loader.epoch == 2
    loader.set_epoch(1)
    assert served_ids(loader) == second_pass


def test_drop_last() -> None:
    loader = TensorLoader(make(10), 4, drop_last=True)
    assert len(loader) == 2 and loader.num_samples == 8
    assert served_ids(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="would yield no batch"):
        TensorLoader(make(3), 4, drop_last=True)


def test_augment_runs_only_when_given_and_is_reproducible() -> None:
    calls: list[torch.Size] = []

    def spy(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        assert isinstance(generator, torch.Generator) and generator.device.type == "cpu"
        assert images.min() >= 0.0 and images.max() <= 1.0  # scaled, not yet normalised
        calls.append(images.shape)
        return images + torch.rand(images.shape, generator=generator)

    data = make(10)
    plain = [x for x, _ in TensorLoader(data, 4)]
    assert not calls
    loader = TensorLoader(data, 4, augment=spy)
    augmented = [x for x, _ in loader]
    assert len(calls) == 3
    assert not torch.equal(augmented[0], plain[0])
    loader.set_epoch(0)
    assert all(torch.equal(a, b) for a, b in zip(augmented, [x for x, _ in loader], strict=True))


def test_rotation_augmentation_changes_real_images() -> None:
    images = torch.zeros(6, 1, 28, 28, dtype=torch.uint8)
    images[:, :, 4:24, 13:15] = 255
    data = ImageDataset(images, torch.zeros(6, dtype=torch.int64), "bars", ("bar",), 0.0, 1.0)
    x, _ = next(iter(TensorLoader(data, 6, augment=RandomRotation((30, 60)))))
    assert not torch.equal(x, images.float() / 255)
    assert x.shape == (6, 1, 28, 28) and x.min() == 0.0


def test_normalisation_and_channels_last() -> None:
    data = ImageDataset(
        torch.full((4, 1, 3, 3), 51, dtype=torch.uint8), torch.zeros(4, dtype=torch.int64),
        "flat", ("x",), 0.1, 0.5,
    )  # fmt: skip
    x, _ = next(iter(TensorLoader(data, 4)))
    assert torch.allclose(x, torch.full_like(x, (0.2 - 0.1) / 0.5))
    x_raw, _ = next(iter(TensorLoader(data, 4, normalize=False)))
    assert torch.allclose(x_raw, torch.full_like(x_raw, 0.2))
    x_cl, _ = next(iter(TensorLoader(data, 4, channels_last=True)))
    assert x_cl.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.mnist
def test_normalised_real_mnist_has_zero_mean_unit_std(mnist_train: ImageDataset) -> None:
    total = total_sq = 0.0
    count = 0
    for x, _ in TensorLoader(mnist_train, 10_000):
        total += x.double().sum().item()
        total_sq += x.double().square().sum().item()
        count += x.numel()
    mean = total / count
    std = (total_sq / count - mean**2) ** 0.5
    assert mean == pytest.approx(0.0, abs=1e-3)
    assert std == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be an int >= 1, got 0"),
        ({"batch_size": 2.5}, ValueError, "batch_size"),
        ({"batch_size": True}, ValueError, "batch_size"),
        ({"batch_size": 2, "seed": -1}, ValueError, "seed"),
        ({"batch_size": 2, "augment": 3}, TypeError, "callable"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        TensorLoader(make(4), **kwargs)


def test_other_misuse_is_rejected() -> None:
    with pytest.raises(TypeError, match="ImageDataset"):
        TensorLoader([1, 2, 3], 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        TensorLoader(make(4).subset([]), 2)
    with pytest.raises(ValueError, match="epoch"):
        TensorLoader(make(4), 2).set_epoch(-1)
