"""What a dataset source is, and the checks every split it reads goes through.

A source (:class:`DatasetSource`) says which splits it has and reads one as a
:class:`RawSplit`: ``uint8`` images ``[N, C, H, W]``, ``int64`` labels ``[N]`` and, when
it knows them, the class names. The ready sources are
:class:`~tinyconv.data.ImageFolderSource`, :class:`~tinyconv.data.ArraySource` and
:class:`~tinyconv.data.TorchvisionSource`; any object with these two methods is one too.
:func:`image_tensor` and :func:`label_tensor` turn NumPy arrays or tensors into that form
or raise one :class:`~tinyconv.data.errors.DatasetFormatError` naming the problem and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import torch

from .errors import DatasetFormatError

__all__ = ["SPLITS", "DatasetSource", "RawSplit", "image_tensor", "label_tensor"]

SPLITS = ("train", "test")
"""The split names a source may have; ``train`` is required."""

_LAYOUTS = ("NCHW", "NHWC")
_CHANNEL_COUNTS = (1, 3, 4)


class RawSplit(NamedTuple):
    """One split as a source reads it.

    Attributes:
        images: ``uint8`` pixels ``[N, C, H, W]``.
        labels: ``int64`` class indices ``[N]``.
        class_names: The class names in label order, when the source knows them.
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...] | None = None


@runtime_checkable
class DatasetSource(Protocol):
    """Where a registered dataset's images come from.

    Example:
        >>> from tinyconv.data import ArraySource
        >>> isinstance(ArraySource(train=(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), [0, 1])),
        ...            DatasetSource)
        True
    """

    def splits(self) -> tuple[str, ...]:
        """Return the splits this source has, among ``("train", "test")``."""
        ...

    def read(self, split: str) -> RawSplit:
        """Read one split.

        Args:
            split: ``"train"`` or ``"test"``.

        Returns:
            The split's images, labels and (if known) class names.
        """
        ...


def _as_tensor(values: Any, what: str, where: str) -> torch.Tensor:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu()
    try:
        import numpy as np

        return torch.from_numpy(np.ascontiguousarray(values))
    except (TypeError, ValueError, RuntimeError) as error:
        raise DatasetFormatError(
            f"{where}: {what} must be a NumPy array or a torch tensor, got "
            f"{type(values).__name__} ({error})"
        ) from error


def image_tensor(values: Any, where: str, layout: str | None = None) -> torch.Tensor:
    """Check images and return them as a contiguous ``uint8`` tensor ``[N, C, H, W]``.

    Args:
        values: A NumPy array or tensor of ``uint8`` pixels, ``[N, H, W]`` (one channel),
            ``[N, C, H, W]`` or ``[N, H, W, C]``.
        where: What the images are, for messages (a file name, ``"train split"``).
        layout: ``"NCHW"`` or ``"NHWC"`` for 4-D images; ``None`` decides from the shape
            when only one axis can hold 1, 3 or 4 channels.

    Returns:
        The images as ``uint8`` ``[N, C, H, W]``.

    Raises:
        DatasetFormatError: For another dtype, number of axes, an unknown layout, or a
            4-D shape whose layout cannot be told.

    Example:
        >>> image_tensor(torch.zeros(5, 32, 32, 3, dtype=torch.uint8), "demo").shape
        torch.Size([5, 3, 32, 32])
    """
    images = _as_tensor(values, "images", where)
    if images.dtype != torch.uint8:
        raise DatasetFormatError(
            f"{where}: images must be uint8 pixels in 0..255, got dtype {images.dtype}; "
            "convert them, e.g. (x * 255).round().clip(0, 255).astype(numpy.uint8) for floats "
            "in [0, 1]"
        )
    if layout is not None and layout.upper() not in _LAYOUTS:
        raise DatasetFormatError(f"{where}: layout must be 'NCHW' or 'NHWC', got {layout!r}")
    if images.dim() == 3:
        return images.unsqueeze(1).contiguous()
    if images.dim() != 4:
        raise DatasetFormatError(
            f"{where}: images must be shaped [N, H, W], [N, C, H, W] or [N, H, W, C], got "
            f"{tuple(images.shape)}"
        )
    if layout is None:
        first, last = images.shape[1] in _CHANNEL_COUNTS, images.shape[3] in _CHANNEL_COUNTS
        if first == last:
            raise DatasetFormatError(
                f"{where}: cannot tell whether images of shape {tuple(images.shape)} are "
                "[N, C, H, W] or [N, H, W, C]; give the layout ('NCHW' or 'NHWC')"
            )
        layout = "NCHW" if first else "NHWC"
    if layout.upper() == "NHWC":
        images = images.permute(0, 3, 1, 2)
    return images.contiguous()


def label_tensor(
    values: Any, where: str, count: int, class_names: Sequence[str] | None
) -> torch.Tensor:
    """Check labels and return them as an ``int64`` tensor ``[N]``.

    Args:
        values: Integer class indices, a NumPy array, tensor or list.
        where: What the labels are, for messages.
        count: The number of images they label.
        class_names: The classes, when known: every label must index into them.

    Returns:
        The labels as ``int64`` ``[N]``.

    Raises:
        DatasetFormatError: For non-integer labels, another length, or a label outside
            ``[0, len(class_names))`` (or below 0).

    Example:
        >>> label_tensor([0, 2, 1], "demo", 3, ("a", "b", "c")).tolist()
        [0, 2, 1]
        >>> label_tensor([0, 3], "demo", 2, ("a", "b", "c"))
        Traceback (most recent call last):
        ...
        tinyconv.data.errors.DatasetFormatError: demo: labels range over [0, 3] but there are 3 classes ('a', 'b', 'c'); labels must lie in [0, 2]: fix the labels or give every class a name
    """  # noqa: E501
    if isinstance(values, list | tuple):
        values = torch.as_tensor(values)
    labels = _as_tensor(values, "labels", where)
    if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex():
        raise DatasetFormatError(
            f"{where}: labels must be integer class indices, got dtype {labels.dtype}"
        )
    labels = labels.flatten() if labels.dim() == 2 and labels.shape[1] == 1 else labels
    if labels.dim() != 1 or len(labels) != count:
        raise DatasetFormatError(
            f"{where}: need one label per image ({count}), got labels of shape "
            f"{tuple(labels.shape)}"
        )
    labels = labels.to(torch.int64)
    if count:
        low, high = int(labels.min()), int(labels.max())
        if low < 0:
            raise DatasetFormatError(
                f"{where}: labels must be class indices >= 0, got a label {low}; fix the labels"
            )
        if class_names is not None and high >= len(class_names):
            raise DatasetFormatError(
                f"{where}: labels range over [{low}, {high}] but there are "
                f"{len(class_names)} classes {tuple(class_names)}; labels must lie in "
                f"[0, {len(class_names) - 1}]: fix the labels or give every class a name"
            )
    return labels
