"""The dataset registry: every dataset tinyconv can train on, score on and export with, by name.

Two datasets are built in (``mnist`` and ``fashion_mnist``, read from the data root). Users
add their own with :func:`register_dataset` (a name and a source: an
:class:`~tinyconv.data.ImageFolderSource`, :class:`~tinyconv.data.ArraySource`,
:class:`~tinyconv.data.TorchvisionSource` or any :class:`~tinyconv.data.source.DatasetSource`), or
with :func:`~tinyconv.data.register_dataset_folder` from a folder holding a
``tinyconv-dataset.json`` description (``--dataset-dir PATH`` on the command line). Folders
listed in the ``TINYCONV_DATASETS`` environment variable (separated by ``os.pathsep``) are
registered the first time a name is looked up, which is how worker processes see the
datasets their parent registered from folders.

Registering reads nothing; :mod:`tinyconv.data.load` reads the data
(:func:`~tinyconv.data.dataset_info` completes the facts a registration leaves out from the
training split, :func:`~tinyconv.data.load_dataset` returns a split).
:func:`model_dataset` is the one place a model's dataset is decided.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from tinyconv.normalization import Normalization

from .errors import DatasetFormatError, DatasetRegistryError
from .info import DatasetInfo
from .mnist import BUILTIN_DATASETS
from .source import DatasetSource, RawSplit

__all__ = [
    "DATASETS_ENV_VAR",
    "check_dataset_name",
    "dataset_names",
    "model_dataset",
    "register_dataset",
    "registration",
]

DATASETS_ENV_VAR = "TINYCONV_DATASETS"
"""Environment variable listing dataset folders (``os.pathsep``-separated) to register."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass
class Registration:
    """A registration: the facts given, the source, and the facts completed from data."""

    name: str
    source: DatasetSource | None  # None: a built-in, read by read_builtin_split
    class_names: tuple[str, ...] | None
    image_shape: tuple[int, int, int] | None
    normalization: Normalization | None
    target_accuracy: float | None
    display_name: str
    folder: Path | None = None  # the description's folder, when registered from one
    info: DatasetInfo | None = None
    splits_read: dict[str, RawSplit] = field(default_factory=dict)


def _builtin(info: DatasetInfo) -> Registration:
    return Registration(
        info.name,
        None,
        info.class_names,
        info.image_shape,
        info.normalization,
        info.target_accuracy,
        info.display_name,
        info=info,
    )


_BUILTINS = {name: _builtin(info) for name, info in BUILTIN_DATASETS.items()}
_REGISTRY: dict[str, Registration] = dict(_BUILTINS)
_ENV_FOLDERS_SEEN: set[str] = set()


def _register_env_folders() -> None:
    """Register the folders of ``TINYCONV_DATASETS`` not registered yet in this process."""
    for entry in (os.environ.get(DATASETS_ENV_VAR) or "").split(os.pathsep):
        if entry and entry not in _ENV_FOLDERS_SEEN:
            _ENV_FOLDERS_SEEN.add(entry)
            from .description import register_dataset_folder

            register_dataset_folder(entry, export=False)


def dataset_names() -> tuple[str, ...]:
    """Return every registered dataset's name, the built-ins first.

    Returns:
        The names.

    Example:
        >>> dataset_names()[:2]
        ('mnist', 'fashion_mnist')
    """
    _register_env_folders()
    return tuple(_REGISTRY)


def _known() -> str:
    return ", ".join(dataset_names())


def check_dataset_name(name: str) -> str:
    """Return ``name`` if it is a registered dataset, else raise naming the known ones.

    Reads no data.

    Args:
        name: A dataset name.

    Returns:
        The name.

    Raises:
        DatasetRegistryError: If no dataset of that name is registered.

    Example:
        >>> check_dataset_name("fashion")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.data.errors.DatasetRegistryError: unknown dataset 'fashion'; known datasets: mnist, fashion_mnist... (register yours with tinyconv.data.register_dataset, or --dataset-dir PATH on the command line)
    """  # noqa: E501
    if not isinstance(name, str) or (name not in _REGISTRY and name not in dataset_names()):
        raise DatasetRegistryError(
            f"unknown dataset {name!r}; known datasets: {_known()} (register yours with "
            "tinyconv.data.register_dataset, or --dataset-dir PATH on the command line)"
        )
    return name


def register_dataset(
    name: str,
    source: DatasetSource,
    *,
    class_names: Sequence[str] | None = None,
    image_shape: Sequence[int] | None = None,
    mean: Sequence[float] | float | None = None,
    std: Sequence[float] | float | None = None,
    target_accuracy: float | None = None,
    display_name: str | None = None,
    replace: bool = False,
    _folder: Path | None = None,
) -> None:
    """Register a dataset under ``name`` so recipes, studies, searches, exports and reports use it.

    Nothing is read here. Facts left out are taken from the training split the first time
    they are needed: class names from the source (or ``"0"``, ``"1"``, ...), the image
    shape from the images, and the per-channel mean and std of ``x / 255`` computed over
    every training pixel.

    Args:
        name: Letters, digits, ``_``, ``.`` and ``-``; not a built-in's name.
        source: Where the images come from (see :class:`~tinyconv.data.source.DatasetSource`).
        class_names: Class names in label order.
        image_shape: ``(channels, height, width)``; checked against the images.
        mean: Per-channel mean of ``x / 255`` (one number for all channels).
        std: Per-channel standard deviation, as ``mean``; both or neither.
        target_accuracy: A test-accuracy bar in ``(0, 1]`` to count seeds against.
        display_name: The name shown in reports (default: ``name``).
        replace: Replace an earlier registration of ``name``.

    Raises:
        DatasetRegistryError: For a built-in's name, a malformed name, or a name already
            registered (unless ``replace``).
        DatasetFormatError: For a source that is not one, or malformed facts.

    Example:
        >>> import torch
        >>> from tinyconv.data import ArraySource, dataset_info
        >>> images = torch.randint(0, 256, (20, 3, 8, 8), dtype=torch.uint8)
        >>> register_dataset("demo", ArraySource(train=(images, [0, 1] * 10)), replace=True)
        >>> dataset_info("demo").image_shape, dataset_info("demo").class_names
        ((3, 8, 8), ('0', '1'))
        >>> register_dataset("mnist", ArraySource(train=(images, [0, 1] * 10)))
        Traceback (most recent call last):
        ...
        tinyconv.data.errors.DatasetRegistryError: 'mnist' is a built-in dataset; give yours another name (e.g. 'my_mnist')
    """  # noqa: E501
    if name in _BUILTINS:
        raise DatasetRegistryError(
            f"{name!r} is a built-in dataset; give yours another name (e.g. 'my_{name}')"
        )
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise DatasetRegistryError(
            f"dataset name {name!r} must be 1 to 64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    if not callable(getattr(source, "read", None)) or not callable(getattr(source, "splits", None)):
        raise DatasetFormatError(
            f"dataset {name!r}: the source must have read(split) and splits() methods (an "
            f"ImageFolderSource, ArraySource or TorchvisionSource), got {type(source).__name__}"
        )
    if (mean is None) != (std is None):
        raise DatasetFormatError(f"dataset {name!r}: give both mean and std, or neither")
    try:
        norm = None if mean is None else Normalization(mean, std)  # type: ignore[arg-type]
    except ValueError as error:
        raise DatasetFormatError(f"dataset {name!r}: {error}") from error
    shape = None if image_shape is None else tuple(int(v) for v in image_shape)
    if shape is not None and (len(shape) != 3 or min(shape) < 1):
        raise DatasetFormatError(
            f"dataset {name!r}: image_shape must be (channels, height, width), got {image_shape}"
        )
    if target_accuracy is not None and not 0 < target_accuracy <= 1:
        raise DatasetFormatError(
            f"dataset {name!r}: target_accuracy is a fraction in (0, 1], got {target_accuracy}"
        )
    entry = Registration(
        name=name,
        source=source,
        class_names=None if class_names is None else tuple(str(n) for n in class_names),
        image_shape=shape,  # type: ignore[arg-type]
        normalization=norm,
        target_accuracy=target_accuracy,
        display_name=display_name or name,
        folder=_folder,
    )
    old = _REGISTRY.get(name)
    if old is not None and not replace:
        if _folder is not None and old.folder == _folder:
            return  # the same folder registered again
        where = f" from {old.folder}" if old.folder else ""
        raise DatasetRegistryError(
            f"a dataset named {name!r} is already registered{where}; choose another name or "
            "pass replace=True"
        )
    _REGISTRY[name] = entry


def registration(name: str) -> Registration:
    """Return the registration of ``name`` (for :mod:`tinyconv.data.load`).

    Raises:
        DatasetRegistryError: If the name is not registered.
    """
    return _REGISTRY[check_dataset_name(name)]


def model_dataset(
    model: nn.Module, dataset: str | None = None, *, label: str = "the model"
) -> DatasetInfo:
    """Decide which dataset a model is scored on: ``dataset`` if given, else the one it records.

    Every command that scores a model (``export``, ``report``) resolves it here, so a
    model file that records no dataset is refused the same way everywhere, never scored
    on a default.

    Args:
        model: The model (a loaded model file records its dataset in ``model.dataset``).
        dataset: A dataset name given by the user (``--dataset``), or ``None``.
        label: How to call the model in the message.

    Returns:
        The dataset's :class:`DatasetInfo`.

    Raises:
        DatasetRegistryError: If neither names a dataset, or the name is not registered.

    Example:
        >>> model_dataset(nn.Identity(), label="net.pt")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.data.errors.DatasetRegistryError: net.pt records no dataset; pass --dataset NAME (dataset= in Python) with one of: mnist, fashion_mnist...
    """  # noqa: E501
    from .load import dataset_info  # reads the training split when facts are missing

    name = dataset if dataset is not None else getattr(model, "dataset", None)
    if name is None:
        raise DatasetRegistryError(
            f"{label} records no dataset; pass --dataset NAME (dataset= in Python) with one "
            f"of: {_known()}"
        )
    return dataset_info(name)
