"""Seeded, deterministic train/validation split of an :class:`ImageDataset`.

The stratified split gives every class its share of the validation set by the
largest-remainder method, so the total is exactly the requested size and each
class's count differs from its exact proportional share by less than one.
Both halves keep the original sample order (indices are sorted), so the split
depends only on ``(dataset, val_size, seed, stratified)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import SplitError
from .image_dataset import ImageDataset

__all__ = [
    "DEFAULT_VAL_IMAGES",
    "ValidationSplit",
    "default_val_size",
    "resolve_val_count",
    "train_val_split",
]

DEFAULT_VAL_IMAGES = 5000
"""Validation images carved from an MNIST-sized training set when none is asked for."""


def default_val_size(num_samples: int) -> int:
    """The validation split to carve when none is given: 5,000 images, or a tenth of fewer.

    The default of :class:`ValidationSplit`, so a dataset of a few hundred images gets a
    split it can afford instead of an error.

    Args:
        num_samples: Training images available.

    Returns:
        ``min(5000, num_samples // 10)``, at least 1.

    Example:
        >>> default_val_size(60_000), default_val_size(400), default_val_size(5)
        (5000, 40, 1)
    """
    return min(DEFAULT_VAL_IMAGES, max(1, num_samples // 10))


def resolve_val_count(num_samples: int, val_size: int | float) -> int:
    """Turn a validation size (count or fraction) into a sample count.

    Args:
        num_samples: Size of the dataset being split.
        val_size: Number of validation samples (int), or a fraction in ``(0, 1)``
            (float, rounded to the nearest count).

    Returns:
        The validation count, in ``[1, num_samples - 1]``.

    Raises:
        TypeError: If ``val_size`` is not an int or float (bools are rejected).
        ValueError: If the count would leave either part empty.

    Example:
        >>> resolve_val_count(60_000, 0.1), resolve_val_count(60_000, 5_000)
        (6000, 5000)
    """
    if isinstance(val_size, bool) or not isinstance(val_size, int | float):
        raise TypeError(
            f"val_size must be an int count or a float fraction, got {type(val_size).__name__}."
        )
    if isinstance(val_size, float):
        if not 0.0 < val_size < 1.0:
            raise ValueError(
                f"val_size as a fraction must lie strictly between 0 and 1, got {val_size}; "
                "pass an int for an absolute count."
            )
        count = round(val_size * num_samples)
    else:
        count = val_size
    if not 1 <= count <= num_samples - 1:
        raise ValueError(
            f"val_size={val_size!r} gives {count} validation samples out of {num_samples}; "
            f"both parts need at least one sample, so use a count in [1, {num_samples - 1}]"
            + (" or a larger dataset." if num_samples < 2 else ".")
        )
    return count


def _stratified_counts(class_counts: torch.Tensor, val_count: int) -> torch.Tensor:
    """Per-class validation counts summing to ``val_count`` (largest remainder)."""
    total = int(class_counts.sum())
    scaled = class_counts.to(torch.int64) * val_count
    counts = scaled // total
    remainders = scaled % total
    shortfall = val_count - int(counts.sum())
    # Highest remainder first; ties go to the lower class index (stable sort).
    order = torch.sort(-remainders, stable=True).indices
    counts[order[:shortfall]] += 1
    return counts


def train_val_split(
    dataset: ImageDataset,
    val_size: int | float,
    *,
    seed: int = 0,
    stratified: bool = True,
) -> tuple[ImageDataset, ImageDataset]:
    """Split a dataset into disjoint train and validation parts covering every sample.

    Args:
        dataset: Dataset to split.
        val_size: Validation samples as a count (int) or a fraction in ``(0, 1)`` (float).
        seed: Seed of the random choice; the same seed gives the same split.
        stratified: Keep class proportions in both parts (to within one sample per class).

    Returns:
        ``(train, val)``, each an :class:`ImageDataset` in the original order.

    Raises:
        TypeError: If ``val_size`` is neither an int nor a float.
        ValueError: If ``val_size`` would leave a part empty.

    Example:
        >>> import torch
        >>> data = ImageDataset(torch.zeros(10, 1, 2, 2, dtype=torch.uint8),
        ...                     torch.tensor([0] * 5 + [1] * 5), "toy", ("a", "b"), 0.0, 1.0)
        >>> train, val = train_val_split(data, 0.4, seed=1)
        >>> len(train), len(val), val.class_counts().tolist()
        (6, 4, [2, 2])
    """
    val_count = resolve_val_count(len(dataset), val_size)
    generator = torch.Generator().manual_seed(seed)
    labels = dataset.labels.cpu()
    if stratified:
        per_class = _stratified_counts(dataset.class_counts(), val_count)
        chosen = []
        for class_index, class_val_count in enumerate(per_class.tolist()):
            members = torch.nonzero(labels == class_index).flatten()
            shuffled = members[torch.randperm(len(members), generator=generator)]
            chosen.append(shuffled[:class_val_count])
        val_indices = torch.cat(chosen)
    else:
        val_indices = torch.randperm(len(dataset), generator=generator)[:val_count]
    is_val = torch.zeros(len(dataset), dtype=torch.bool)
    is_val[val_indices] = True
    train_indices = torch.nonzero(~is_val).flatten()
    val_indices = torch.nonzero(is_val).flatten()
    return dataset.subset(train_indices), dataset.subset(val_indices)


@dataclass(frozen=True)
class ValidationSplit:
    """How a command carves a validation split (and a training subset) from a training set.

    The one rule of every command that chooses or fine-tunes on a validation split:
    search, prune, quantization-aware export and the frontier's validation runs. The
    split is stratified and seeded (:func:`train_val_split`); the training subset is the
    first ``train_subset`` images of what is left.

    Args:
        size: Validation images (``None``: :func:`default_val_size`, 5,000 or a tenth of
            fewer).
        seed: Seed of the split.
        train_subset: Train on the first N images left after the split only (``None``:
            all of them).

    Example:
        >>> import torch
        >>> data = ImageDataset(torch.zeros(100, 1, 2, 2, dtype=torch.uint8),
        ...                     torch.arange(100) % 2, "toy", ("a", "b"), 0.0, 1.0)
        >>> train, val = ValidationSplit(size=20, train_subset=50).carve(data)
        >>> len(train), len(val)
        (50, 20)
        >>> ValidationSplit(size=100).carve(data)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        tinyconv.data.errors.SplitError: a 100-image validation split leaves no training ...
    """

    size: int | None = None
    seed: int = 0
    train_subset: int | None = None

    def check(self) -> None:
        """Refuse sizes below 1 before any data is read.

        Raises:
            SplitError: For a validation split or training subset below 1 image.
        """
        for what, value in (
            ("validation split", self.size),
            ("training subset", self.train_subset),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise SplitError(f"the {what} must be >= 1 images, got {value!r}")

    def val_count(self, num_samples: int) -> int:
        """The validation images this split carves from ``num_samples``.

        Raises:
            SplitError: If that leaves no training image or no validation image.
        """
        self.check()
        count = default_val_size(num_samples) if self.size is None else self.size
        if count >= num_samples:
            raise SplitError(
                f"a {count}-image validation split leaves no training images out of "
                f"{num_samples:,}; give a smaller split (at most {num_samples - 1:,})"
            )
        return count

    def carve(self, full: ImageDataset) -> tuple[ImageDataset, ImageDataset]:
        """Split ``full`` into (training part, validation part).

        Args:
            full: The training set.

        Returns:
            ``(train, val)``: ``train`` cut to ``train_subset`` if set.

        Raises:
            SplitError: If the split or the subset does not fit ``full``.
        """
        count = self.val_count(len(full))
        subset = self.train_subset
        train, val = train_val_split(full, count, seed=self.seed)
        if subset is not None:
            if subset > len(train):
                raise SplitError(
                    f"a training subset of {subset:,} is more than the {len(train):,} "
                    f"training images left after a {count:,}-image validation split; give "
                    f"at most {len(train):,}, or leave it out to train on all of them"
                )
            train = train.subset(range(subset))
        return train, val
