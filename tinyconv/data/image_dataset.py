"""``ImageDataset``: a whole labelled image set held as two tensors.

No per-sample objects, no PIL: ``images`` is one ``uint8`` tensor of shape
``[N, C, H, W]`` and ``labels`` one ``int64`` tensor of shape ``[N]``. The
per-channel normalisation statistics travel with the data so a loader can normalise
without knowing which dataset it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from tinyconv.normalization import Normalization

__all__ = ["ImageDataset"]

_INTEGER_INDEX_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8)


@dataclass(frozen=True, eq=False, repr=False)
class ImageDataset:
    """An in-memory labelled image set.

    Attributes:
        images: ``uint8`` pixels, shape ``[N, C, H, W]`` (MNIST: ``[N, 1, 28, 28]``).
        labels: ``int64`` class indices, shape ``[N]``.
        name: Dataset name, e.g. ``"mnist"``.
        class_names: Class names; ``labels`` index into it.
        mean: Per-channel mean of ``images / 255`` over the training split, for
            normalisation (one number is repeated over the channels).
        std: Per-channel standard deviation of ``images / 255`` over the training split.

    Raises:
        ValueError: If dtypes, shapes, label range, ``mean`` or ``std`` are inconsistent.

    Example:
        >>> import torch
        >>> data = ImageDataset(
        ...     images=torch.zeros(4, 1, 28, 28, dtype=torch.uint8),
        ...     labels=torch.tensor([0, 1, 0, 1]),
        ...     name="toy", class_names=("a", "b"), mean=0.5, std=0.25,
        ... )
        >>> len(data), data.subset([1, 3]).labels.tolist()
        (4, [1, 1])
        >>> data
        ImageDataset(name='toy', size=4, image_shape=(1, 28, 28), classes=2, mean=(0.5,), std=(0.25,))
    """  # noqa: E501

    images: torch.Tensor
    labels: torch.Tensor
    name: str
    class_names: tuple[str, ...]
    mean: tuple[float, ...] | float
    std: tuple[float, ...] | float

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"ImageDataset {self.name!r}: images must be a uint8 tensor of shape "
                f"[N, C, H, W], got dtype {self.images.dtype} and shape "
                f"{tuple(self.images.shape)}; convert with images.to(torch.uint8) and add a "
                "channel axis with images.unsqueeze(1) if needed."
            )
        if self.labels.dtype != torch.int64 or self.labels.ndim != 1:
            raise ValueError(
                f"ImageDataset {self.name!r}: labels must be an int64 tensor of shape [N], "
                f"got dtype {self.labels.dtype} and shape {tuple(self.labels.shape)}; "
                "use labels.long().flatten()."
            )
        if len(self.labels) != len(self.images):
            raise ValueError(
                f"ImageDataset {self.name!r}: {len(self.images)} images but "
                f"{len(self.labels)} labels; both must have the same length N."
            )
        classes = len(self.class_names)
        if len(self.labels) and not 0 <= int(self.labels.min()) <= int(self.labels.max()) < classes:
            raise ValueError(
                f"ImageDataset {self.name!r}: labels range over "
                f"[{int(self.labels.min())}, {int(self.labels.max())}] but there are "
                f"{classes} classes; labels must lie in [0, {classes - 1}]."
            )
        try:
            norm = Normalization(self.mean, self.std).for_channels(self.images.shape[1])  # type: ignore[arg-type]
        except ValueError as error:
            raise ValueError(f"ImageDataset {self.name!r}: {error}") from error
        object.__setattr__(self, "class_names", tuple(str(name) for name in self.class_names))
        object.__setattr__(self, "mean", norm.mean)
        object.__setattr__(self, "std", norm.std)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def normalization(self) -> Normalization:
        """The per-channel normalisation of this data (see :class:`Normalization`)."""
        return Normalization(self.mean, self.std)  # type: ignore[arg-type]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(channels, height, width)`` of one image."""
        _, channels, height, width = self.images.shape
        return (channels, height, width)

    def __repr__(self) -> str:
        return (
            f"ImageDataset(name={self.name!r}, size={len(self)}, "
            f"image_shape={self.image_shape}, classes={len(self.class_names)}, "
            f"mean={self.mean}, std={self.std})"
        )

    def subset(self, indices: Sequence[int] | torch.Tensor) -> ImageDataset:
        """Return the samples at ``indices`` (in that order) as a new dataset.

        Args:
            indices: Integer positions into this dataset (a list or a 1-D tensor).

        Returns:
            A dataset with the same name, class names and statistics.

        Raises:
            ValueError: If ``indices`` is not one-dimensional or not integer.
            IndexError: If an index is out of range.

        Example:
            >>> import torch
            >>> data = ImageDataset(torch.zeros(3, 1, 2, 2, dtype=torch.uint8),
            ...                     torch.tensor([2, 0, 1]), "toy", ("a", "b", "c"), 0.0, 1.0)
            >>> data.subset(torch.tensor([2, 0])).labels.tolist()
            [1, 2]
        """
        index = torch.as_tensor(indices)
        if index.numel() == 0:
            index = index.to(torch.int64)
        if index.ndim != 1 or index.dtype not in _INTEGER_INDEX_DTYPES:
            raise ValueError(
                f"subset expects a 1-D sequence of integer indices, got dtype {index.dtype} "
                f"and shape {tuple(index.shape)}."
            )
        index = index.to(device=self.labels.device, dtype=torch.int64)
        if len(index) and not -len(self) <= int(index.min()) <= int(index.max()) < len(self):
            raise IndexError(
                f"subset indices range over [{int(index.min())}, {int(index.max())}] but the "
                f"dataset {self.name!r} has {len(self)} samples."
            )
        return replace(self, images=self.images[index], labels=self.labels[index])

    def class_counts(self) -> torch.Tensor:
        """Return the number of samples per class, shape ``[len(classes)]``.

        Example:
            >>> import torch
            >>> data = ImageDataset(torch.zeros(3, 1, 2, 2, dtype=torch.uint8),
            ...                     torch.tensor([1, 1, 0]), "toy", ("a", "b"), 0.0, 1.0)
            >>> data.class_counts().tolist()
            [1, 2]
        """
        return torch.bincount(self.labels.cpu(), minlength=len(self.class_names))
