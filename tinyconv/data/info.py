"""``DatasetInfo``: what tinyconv knows about a registered dataset (see :func:`dataset_info`)."""

from __future__ import annotations

from dataclasses import dataclass

from tinyconv.normalization import Normalization

__all__ = ["DatasetInfo"]


@dataclass(frozen=True)
class DatasetInfo:
    """What tinyconv knows about a registered dataset.

    A recipe names its dataset; the model is built for ``image_shape`` and
    ``len(class_names)`` logits, inputs are normalised with ``normalization``, and results
    count the seeds that reach ``target_accuracy`` when there is one.

    Attributes:
        name: The registered name.
        class_names: Class names in label order.
        image_shape: ``(channels, height, width)`` of one image.
        normalization: Per-channel mean and std of ``x / 255`` over the training split.
        target_accuracy: The test-accuracy bar of this dataset, or ``None`` (MNIST: the
            classic 99.4 %; FashionMNIST: 92.5 %, what its maintainers list for a 2-conv
            CNN with under 100k parameters).
        splits: The splits it has: ``("train", "test")`` or ``("train",)``.
        display_name: The name shown in reports (``"MNIST"``).
        source: Where the images come from, in words.

    Example:
        >>> from tinyconv.data import dataset_info
        >>> info = dataset_info("mnist")
        >>> info.mean, info.std, info.image_shape, info.target_accuracy
        ((0.1307,), (0.3081,), (1, 28, 28), 0.994)
    """

    name: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    normalization: Normalization
    target_accuracy: float | None
    splits: tuple[str, ...]
    display_name: str
    source: str

    @property
    def mean(self) -> tuple[float, ...]:
        """Per-channel mean of ``x / 255`` (the normalisation's)."""
        return self.normalization.mean

    @property
    def std(self) -> tuple[float, ...]:
        """Per-channel standard deviation of ``x / 255`` (the normalisation's)."""
        return self.normalization.std
