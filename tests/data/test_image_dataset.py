from __future__ import annotations

import pytest
import torch

from tinyconv.data import ImageDataset


def make(n: int = 6, num_classes: int = 3) -> ImageDataset:
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 4, 4).clone()
    labels = torch.arange(n) % num_classes
    return ImageDataset(images, labels, "toy", tuple("abc"[:num_classes]), 0.5, 0.25)


def test_len_subset_and_class_counts() -> None:
    data = make()
    assert len(data) == 6
    part = data.subset([4, 1])
    assert part.labels.tolist() == [1, 1]
    assert part.images[:, 0, 0, 0].tolist() == [4, 1]
    assert (part.name, part.class_names, part.mean, part.std) == (
        "toy", ("a", "b", "c"), (0.5,), (0.25,)
    )  # fmt: skip
    assert data.class_counts().tolist() == [2, 2, 2]
    assert len(data.subset([])) == 0


def test_subset_accepts_tensor_indices_and_rejects_bad_ones() -> None:
    data = make()
    assert data.subset(torch.tensor([5, 0])).labels.tolist() == [2, 0]
    with pytest.raises(IndexError, match="6 samples"):
        data.subset([6])
    with pytest.raises(ValueError, match="integer"):
        data.subset(torch.tensor([0.5]))


def test_is_frozen_and_repr_is_short() -> None:
    data = make()
    with pytest.raises(AttributeError):
        data.name = "other"  # type: ignore[misc]
    assert repr(data) == (
        "ImageDataset(name='toy', size=6, image_shape=(1, 4, 4), classes=3, mean=(0.5,), "
        "std=(0.25,))"
    )


@pytest.mark.parametrize(
    ("images", "labels", "std", "match"),
    [
        (torch.zeros(2, 1, 4, 4), torch.tensor([0, 1]), 1.0, "uint8"),
        (torch.zeros(2, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]), 1.0, "uint8"),
        (
            torch.zeros(2, 1, 4, 4, dtype=torch.uint8),
            torch.tensor([0, 1], dtype=torch.int32),
            1.0,
            "int64",
        ),
        (
            torch.zeros(2, 1, 4, 4, dtype=torch.uint8),
            torch.tensor([0, 1, 1]),
            1.0,
            "2 images but 3 labels",
        ),
        (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 3]), 1.0, r"\[0, 2\]"),
        (torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.tensor([0, 1]), 0.0, "std"),
    ],
)
def test_rejects_inconsistent_fields(
    images: torch.Tensor, labels: torch.Tensor, std: float, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        ImageDataset(images, labels, "bad", ("a", "b", "c"), 0.0, std)
