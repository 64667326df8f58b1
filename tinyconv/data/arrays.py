"""``ArraySource``: a dataset held as arrays, in memory or in ``.npz`` / ``.pt`` files.

Each split is either a pair ``(images, labels)`` (NumPy arrays or tensors) or a file:
an ``.npz`` written by ``numpy.savez`` or a ``.pt`` written by ``torch.save`` (read with
``weights_only=True``), holding the arrays under the keys ``images`` and ``labels``.
Images are ``uint8`` ``[N, H, W]``, ``[N, C, H, W]`` or ``[N, H, W, C]`` (see
:func:`~tinyconv.data.source.image_tensor`); labels are integer class indices.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DatasetFormatError, DatasetNotFoundError
from .source import RawSplit, image_tensor, label_tensor

__all__ = ["ArraySource"]

SplitArrays = str | os.PathLike[str] | tuple[Any, Any]
"""A split given as a file path or as ``(images, labels)``."""

_KEYS = ("images", "labels")


def _read_file(path: Path) -> tuple[Any, Any]:
    """Return the ``images`` and ``labels`` arrays stored in an ``.npz`` or ``.pt`` file."""
    if not path.is_file():
        raise DatasetNotFoundError(
            f"no array file at {str(path)!r}; check the path (an .npz or .pt file holding "
            "'images' and 'labels')"
        )
    try:
        if path.suffix == ".npz":
            import numpy as np

            with np.load(path, allow_pickle=False) as archive:
                stored = {key: archive[key] for key in archive.files}
        elif path.suffix == ".pt":
            import torch

            stored = torch.load(path, map_location="cpu", weights_only=True)
        else:
            raise DatasetFormatError(
                f"{path}: array files must end in .npz (numpy.savez) or .pt (torch.save)"
            )
    except DatasetFormatError:
        raise
    except Exception as error:  # a damaged archive can fail anywhere in its reader
        raise DatasetFormatError(
            f"cannot read {path} as an array file ({type(error).__name__}: {error}); write it "
            "again with numpy.savez(path, images=..., labels=...)"
        ) from error
    if not isinstance(stored, dict) or any(key not in stored for key in _KEYS):
        found = sorted(stored) if isinstance(stored, dict) else type(stored).__name__
        raise DatasetFormatError(
            f"{path} must hold the arrays 'images' and 'labels', found {found}; save them "
            "under these names, e.g. numpy.savez(path, images=x, labels=y)"
        )
    return stored["images"], stored["labels"]


@dataclass(frozen=True, eq=False)
class ArraySource:
    """Images and labels as arrays, per split.

    Args:
        train: The training split: a path to an ``.npz``/``.pt`` file or ``(images, labels)``.
        test: The test split, the same way; ``None`` if there is none.
        class_names: Class names in label order; default ``"0"``, ``"1"``, ... up to the
            largest training label.
        layout: ``"NCHW"`` or ``"NHWC"`` for 4-D images; ``None`` decides from the shape.

    Example:
        >>> import torch
        >>> source = ArraySource(train=(torch.zeros(4, 8, 8, dtype=torch.uint8), [0, 1, 1, 0]))
        >>> source.splits(), source.read("train").images.shape
        (('train',), torch.Size([4, 1, 8, 8]))
    """

    train: SplitArrays
    test: SplitArrays | None = None
    class_names: tuple[str, ...] | None = None
    layout: str | None = None

    def splits(self) -> tuple[str, ...]:
        """Return ``("train", "test")``, or ``("train",)`` without a test split."""
        return ("train",) if self.test is None else ("train", "test")

    def read(self, split: str) -> RawSplit:
        """Read and check one split.

        Args:
            split: ``"train"`` or ``"test"``.

        Returns:
            The split.

        Raises:
            DatasetNotFoundError: If a split file is missing.
            DatasetFormatError: If a file cannot be read or holds wrong arrays, or a label
                lies outside the classes.
        """
        given = self.train if split == "train" else self.test
        if given is None:
            raise DatasetNotFoundError(f"this array source has no {split!r} split")
        if isinstance(given, tuple):
            images, labels = given
            where = f"{split} arrays"
        else:
            path = Path(given).expanduser()
            images, labels = _read_file(path)
            where = str(path)
        pixels = image_tensor(images, where, self.layout)
        names = None if self.class_names is None else tuple(str(n) for n in self.class_names)
        targets = label_tensor(labels, where, len(pixels), names)
        if names is None and split == "train" and len(targets):
            names = tuple(str(index) for index in range(int(targets.max()) + 1))
        return RawSplit(pixels, targets, names)
