"""``TorchvisionSource``: any torchvision dataset class whose files are already on disk.

CIFAR-10, CIFAR-100, KMNIST, EMNIST, SVHN, USPS ... are read by their torchvision class
with ``download=False`` (tinyconv never downloads them), then kept as ``uint8`` tensors.
A class that takes ``train=`` gets ``train=True/False``; one that takes ``split=`` gets
``split="train"/"test"``; ``options`` are passed on (EMNIST needs ``{"split": "balanced"}``
or another variant). The images come from the dataset's ``data`` array when it has one,
else from reading every item. torchvision is imported only when a split is read.

To put CIFAR-10 on disk, run once on a machine with internet access::

    python -c "import torchvision; torchvision.datasets.CIFAR10('DATA', download=True)"

which leaves ``DATA/cifar-10-batches-py/``; ``TorchvisionSource("CIFAR10", "DATA")`` then
reads it offline.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DatasetFormatError, DatasetNotFoundError
from .source import RawSplit, image_tensor, label_tensor

__all__ = ["TorchvisionSource"]


def _dataset_class(name: str) -> Any:
    import torchvision.datasets

    cls = getattr(torchvision.datasets, name, None)
    if not isinstance(cls, type):
        raise DatasetFormatError(
            f"torchvision.datasets has no dataset class {name!r}; use a class name such as "
            "CIFAR10, CIFAR100, KMNIST, EMNIST or SVHN"
        )
    return cls


def _split_arguments(cls: Any, split: str) -> dict[str, Any]:
    import torchvision.datasets

    parameters = inspect.signature(cls.__init__).parameters
    if "train" in parameters or issubclass(cls, torchvision.datasets.MNIST):
        return {"train": split == "train"}
    if "split" in parameters:
        return {"split": split}
    raise DatasetFormatError(
        f"torchvision.datasets.{cls.__name__} takes neither train= nor split=; read it "
        "yourself and register its arrays with ArraySource"
    )


def _arrays(dataset: Any) -> tuple[Any, Any]:
    """The dataset's images and labels: its ``data`` array, else every item read once."""
    labels = getattr(dataset, "targets", None)
    if labels is None:
        labels = getattr(dataset, "labels", None)
    data = getattr(dataset, "data", None)
    if data is not None and labels is not None and hasattr(data, "shape"):
        return data, labels
    import numpy as np

    images, targets = [], []
    for index in range(len(dataset)):
        image, target = dataset[index]
        images.append(np.asarray(image))
        targets.append(int(target))
    shapes = {item.shape for item in images}
    if len(shapes) > 1:
        raise DatasetFormatError(
            f"torchvision.datasets.{type(dataset).__name__} holds images of {len(shapes)} "
            "sizes; pass a transform that resizes them (options={'transform': ...}) or "
            "resize the files"
        )
    return np.stack(images), np.asarray(targets)


@dataclass(frozen=True)
class TorchvisionSource:
    """A torchvision dataset read from files already on disk, never downloaded.

    Args:
        dataset_class: The class's name in ``torchvision.datasets`` (``"CIFAR10"``).
        root: The folder the class reads (the one given to it as ``root``).
        options: More keyword arguments for the class (EMNIST's ``split``).
        has_test: Whether the dataset has a test split.

    Example:
        >>> source = TorchvisionSource("CIFAR10", "/nonexistent")
        >>> source.read("train")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        DatasetNotFoundError: ...
    """

    dataset_class: str
    root: Path
    options: dict[str, Any] = field(default_factory=dict)
    has_test: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())

    def splits(self) -> tuple[str, ...]:
        """Return ``("train", "test")``, or ``("train",)`` when ``has_test`` is false."""
        return ("train", "test") if self.has_test else ("train",)

    def read(self, split: str) -> RawSplit:
        """Read one split through its torchvision class, without downloading.

        Args:
            split: ``"train"`` or ``"test"``.

        Returns:
            The split, with the class's ``classes`` as class names when it has them.

        Raises:
            DatasetNotFoundError: If the files are not under ``root``; the message gives
                the command that puts them there.
            DatasetFormatError: For an unknown class or data tinyconv cannot use.
        """
        cls = _dataset_class(self.dataset_class)
        arguments = {**_split_arguments(cls, split), **self.options}
        if "download" in inspect.signature(cls.__init__).parameters:
            arguments["download"] = False
        try:
            dataset = cls(str(self.root), **arguments)
        except (RuntimeError, OSError, FileNotFoundError) as error:
            raise DatasetNotFoundError(
                f"torchvision.datasets.{self.dataset_class} found no {split} files under "
                f"{self.root} ({error}). tinyconv never downloads them; on a machine with "
                f'internet access run: python -c "import torchvision; '
                f"torchvision.datasets.{self.dataset_class}('{self.root}', download=True"
                f'{"".join(f", {key}={value!r}" for key, value in self.options.items())})" '
                "and copy the folder here"
            ) from error
        images, labels = _arrays(dataset)
        where = f"torchvision.datasets.{self.dataset_class} {split} split under {self.root}"
        pixels = image_tensor(images, where)
        classes = getattr(dataset, "classes", None)
        names = tuple(str(name) for name in classes) if classes else None
        return RawSplit(pixels, label_tensor(labels, where, len(pixels), names), names)
