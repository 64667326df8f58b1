from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyconv.data import ImageDataset, train_val_split
from tinyconv.data.errors import SplitError
from tinyconv.data.split import ValidationSplit, default_val_size, resolve_val_count


def make(labels: list[int], num_classes: int | None = None) -> ImageDataset:
    n = len(labels)
    # Each image stores its own index in its first two pixels, so samples can be traced.
    images = torch.zeros(n, 1, 2, 2, dtype=torch.uint8)
    images[:, 0, 0, 0] = torch.arange(n) % 256
    images[:, 0, 0, 1] = torch.arange(n) // 256
    classes = tuple(str(c) for c in range(num_classes or max(labels) + 1))
    return ImageDataset(images, torch.tensor(labels), "toy", classes, 0.0, 1.0)


def sample_ids(data: ImageDataset) -> list[int]:
    return (data.images[:, 0, 0, 0].long() + 256 * data.images[:, 0, 0, 1].long()).tolist()


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 4), min_size=2, max_size=300),
    fraction=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**31),
    stratified=st.booleans(),
)
def test_split_is_a_disjoint_cover_with_exact_size(
    labels: list[int], fraction: float, seed: int, stratified: bool
) -> None:
    data = make(labels)
    val_count = max(1, min(len(labels) - 1, round(fraction * len(labels))))
    train, val = train_val_split(data, val_count, seed=seed, stratified=stratified)
    train_ids, val_ids = sample_ids(train), sample_ids(val)
    assert len(val_ids) == val_count
    assert sorted(train_ids + val_ids) == list(range(len(labels)))
    assert train_ids == sorted(train_ids) and val_ids == sorted(val_ids)
    # labels travel with their images
    assert train.labels.tolist() == [labels[i] for i in train_ids]
    if stratified:
        counts = data.class_counts().double()
        exact_share = counts * val_count / len(labels)
        assert ((val.class_counts().double() - exact_share).abs() < 1).all()


def test_same_seed_same_split_other_seed_other_split() -> None:
    data = make([i % 10 for i in range(1000)])
    first = sample_ids(train_val_split(data, 0.2, seed=7)[1])
    again = sample_ids(train_val_split(data, 0.2, seed=7)[1])
    other = sample_ids(train_val_split(data, 0.2, seed=8)[1])
    assert first == again
    assert first != other


def test_stratified_keeps_class_proportions_where_random_need_not() -> None:
    labels = [0] * 900 + [1] * 100
    data = make(labels)
    _, val = train_val_split(data, 100, seed=0)
    assert val.class_counts().tolist() == [90, 10]
    _, val_random = train_val_split(data, 100, seed=0, stratified=False)
    assert val_random.class_counts().sum() == 100


def test_float_fraction_is_rounded() -> None:
    assert resolve_val_count(60_000, 1 / 12) == 5000
    assert resolve_val_count(3, 0.5) == 2  # round half to even: 1.5 -> 2


@pytest.mark.parametrize(
    ("val_size", "error", "match"),
    [
        (0, ValueError, r"\[1, 9\]"),
        (10, ValueError, "gives 10 validation samples out of 10"),
        (-3, ValueError, "at least one"),
        (0.0, ValueError, "strictly between 0 and 1"),
        (1.0, ValueError, "strictly between 0 and 1"),
        (0.01, ValueError, "gives 0 validation samples"),
        (True, TypeError, "bool"),
        ("0.1", TypeError, "str"),
    ],
)
def test_bad_sizes_are_rejected(val_size: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        train_val_split(make([0, 1] * 5), val_size)  # type: ignore[arg-type]


def test_dataset_of_one_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="larger dataset"):
        train_val_split(make([0]), 0.5)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 400),
    size=st.one_of(st.none(), st.integers(-2, 450)),
    subset=st.one_of(st.none(), st.integers(-1, 450)),
    seed=st.integers(0, 100),
)
def test_validation_split_law_every_command_shares(
    n: int, size: int | None, subset: int | None, seed: int
) -> None:
    data = make([i % 3 for i in range(n)])
    split = ValidationSplit(size, seed, subset)
    count = default_val_size(n) if size is None else size
    fits = 1 <= count < n and (subset is None or 1 <= subset <= n - count)
    if not fits:
        with pytest.raises(SplitError, match=r"validation split|training subset"):
            split.carve(data)
        return
    train, val = split.carve(data)
    assert len(val) == count and len(train) == (n - count if subset is None else subset)
    whole_train, same_val = train_val_split(data, count, seed=seed)
    assert sample_ids(same_val) == sample_ids(val)  # the plain split, cut to the subset
    assert sample_ids(train) == sample_ids(whole_train)[: len(train)]


def test_a_subset_larger_than_what_the_split_leaves_names_the_largest_that_fits() -> None:
    data = make([i % 2 for i in range(100)])
    with pytest.raises(SplitError, match=r"subset of 95 is more than the 90 .* at most 90"):
        ValidationSplit(size=10, train_subset=95).carve(data)
    with pytest.raises(SplitError, match=r"100-image validation split leaves no training"):
        ValidationSplit(size=100).carve(data)
