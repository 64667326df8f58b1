"""The dataset registry: every dataset tinyconv can train on, score on and export with, by name.

Two datasets are built in (``mnist`` and ``fashion_mnist``, read from the data root). Users
add their own with :func:`register_dataset` (a name and a source: an
:class:`~tinyconv.data.ImageFolderSource`, :class:`~tinyconv.data.ArraySource`,
:class:`~tinyconv.data.TorchvisionSource` or any :class:`~tinyconv.data.DatasetSource`), or
with :func:`~tinyconv.data.register_dataset_folder` from a folder holding a
``tinyconv-dataset.json`` description (``--dataset-dir PATH`` on the command line). Folders
listed in the ``TINYCONV_DATASETS`` environment variable (separated by ``os.pathsep``) are
registered the first time a name is looked up, which is how worker processes see the
datasets their parent registered from folders.

:func:`dataset_info` gives a name's facts (:class:`DatasetInfo`: class names, image shape,
per-channel normalisation, target accuracy, splits). What a registration leaves out is
read from the training split once per process: class names and image shape from the data,
mean and std computed over its pixels (:meth:`~tinyconv.data.Normalization.from_images`).
:func:`load_dataset` returns a split as an :class:`~tinyconv.data.ImageDataset`, and
:func:`model_dataset` is the one place a model's dataset is decided.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from .errors import DatasetFormatError, DatasetNotFoundError, DatasetRegistryError
from .image_dataset import ImageDataset
from .mnist import BUILTIN_FOLDERS, read_builtin_split
from .normalization import Normalization
from .root import resolve_data_root
from .source import SPLITS, DatasetSource, RawSplit

__all__ = [
    "DATASETS_ENV_VAR",
    "DatasetInfo",
    "check_dataset_name",
    "dataset_info",
    "dataset_names",
    "load_dataset",
    "model_dataset",
    "register_dataset",
]

DATASETS_ENV_VAR = "TINYCONV_DATASETS"
"""Environment variable listing dataset folders (``os.pathsep``-separated) to register."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


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


@dataclass
class _Entry:
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


def _builtin(name: str, classes: Sequence[str], mean: float, std: float, target: float) -> _Entry:
    info = DatasetInfo(
        name=name,
        class_names=tuple(classes),
        image_shape=(1, 28, 28),
        normalization=Normalization((mean,), (std,)),
        target_accuracy=target,
        splits=SPLITS,
        display_name=BUILTIN_FOLDERS[name],
        source=f"built-in: {BUILTIN_FOLDERS[name]}/raw IDX files under the data root",
    )
    return _Entry(
        name,
        None,
        info.class_names,
        info.image_shape,
        info.normalization,
        target,
        info.display_name,
        info=info,
    )


_FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_BUILTINS = {
    "mnist": _builtin("mnist", [str(digit) for digit in range(10)], 0.1307, 0.3081, 0.994),
    # Measured once on the train split: mean 0.28604, std 0.35302.
    "fashion_mnist": _builtin("fashion_mnist", _FASHION_CLASSES, 0.2860, 0.3530, 0.925),
}
_REGISTRY: dict[str, _Entry] = dict(_BUILTINS)
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
        source: Where the images come from (see :class:`~tinyconv.data.DatasetSource`).
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
        >>> from tinyconv.data import ArraySource
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
    entry = _Entry(
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


def _entry(name: str) -> _Entry:
    return _REGISTRY[check_dataset_name(name)]


def _read(entry: _Entry, split: str) -> RawSplit:
    """Read a user dataset's split once per process, checked against what was registered."""
    if split in entry.splits_read:
        return entry.splits_read[split]
    assert entry.source is not None
    available = tuple(entry.source.splits())
    if split not in available:
        raise DatasetNotFoundError(
            f"dataset {entry.name!r} has no {split} split (it has: {', '.join(available)}); "
            f"add one to {entry.source!r}. tinyconv never scores a model on its training "
            "images: search and validation runs need only the train split"
        )
    raw = entry.source.read(split)
    where = f"dataset {entry.name!r}, {split} split"
    if raw.images.dtype.is_floating_point or raw.images.dim() != 4 or len(raw.images) == 0:
        raise DatasetFormatError(
            f"{where}: the source must give uint8 images [N, C, H, W] with N >= 1, got "
            f"{raw.images.dtype} {tuple(raw.images.shape)}"
        )
    entry.splits_read[split] = raw
    return raw


def dataset_info(name: str) -> DatasetInfo:
    """Return what is known about dataset ``name``, completing it from its training split.

    Args:
        name: A registered name (see :func:`dataset_names`).

    Returns:
        Its :class:`DatasetInfo`.

    Raises:
        DatasetRegistryError: If the name is not registered; the message lists the known
            names.
        DatasetNotFoundError: If facts must be read and the training files are missing.
        DatasetFormatError: If the training split contradicts the registered facts.

    Example:
        >>> dataset_info("fashion_mnist").class_names[0]
        'T-shirt/top'
    """
    entry = _entry(name)
    if entry.info is not None:
        return entry.info
    assert entry.source is not None
    class_names, shape, norm = entry.class_names, entry.image_shape, entry.normalization
    if class_names is None or shape is None or norm is None:
        train = _read(entry, "train")
        class_names = class_names or train.class_names
        if class_names is None:
            class_names = tuple(str(i) for i in range(int(train.labels.max()) + 1))
        found = tuple(train.images.shape[1:])
        if shape is not None and shape != found:
            raise DatasetFormatError(
                f"dataset {name!r} was registered with image_shape {shape} but its training "
                f"images are {found}; fix the registration or the images"
            )
        shape = found  # type: ignore[assignment]
        if norm is None:
            try:
                norm = Normalization.from_images(train.images)
            except ValueError as error:
                raise DatasetFormatError(f"dataset {name!r}: {error}") from error
    try:
        norm = norm.for_channels(shape[0])  # type: ignore[index]
    except ValueError as error:
        raise DatasetFormatError(f"dataset {name!r}: {error}") from error
    entry.info = DatasetInfo(
        name=name,
        class_names=tuple(class_names),
        image_shape=shape,  # type: ignore[arg-type]
        normalization=norm,
        target_accuracy=entry.target_accuracy,
        splits=tuple(split for split in SPLITS if split in entry.source.splits()),
        display_name=entry.display_name,
        source=repr(entry.source),
    )
    return entry.info


def load_dataset(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
    download: bool = False,
    verify: bool = True,
) -> ImageDataset:
    """Load one split of a registered dataset as uint8 tensors.

    Args:
        name: A registered name: ``"mnist"``, ``"fashion_mnist"`` or one of yours.
        root: Data root of the built-in datasets (see
            :func:`~tinyconv.data.resolve_data_root`); a registered dataset knows where
            its own files are.
        train: The training split if ``True``, else the test split.
        download: For a built-in dataset, let torchvision download missing files.
        verify: For a built-in dataset, check the size and MD5 of the split's two raw files
            (cached per process, so repeated loads are cheap).

    Returns:
        An :class:`~tinyconv.data.ImageDataset` with the dataset's class names and
        training-split normalisation.

    Raises:
        DatasetRegistryError: If ``name`` is not registered, or ``download`` is asked for
            a dataset that is not built in.
        DatasetNotFoundError: If the split's files are missing (and downloading is off or
            failed), or the dataset has no such split; the message names the fix.
        CorruptDatasetError: If a raw file has the wrong size or MD5, or cannot be parsed.
        DatasetFormatError: If a user dataset's files cannot be used as they are.

    Example:
        >>> load_dataset("mnist", root="/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        DatasetNotFoundError: ...
    """
    entry = _entry(name)
    split = "train" if train else "test"
    if entry.source is None:
        images, labels = read_builtin_split(
            name, resolve_data_root(root), split, download=download, verify=verify
        )
        info = dataset_info(name)
    else:
        if download:
            raise DatasetRegistryError(
                f"tinyconv downloads only the built-in datasets; place the files of {name!r} "
                "on disk yourself"
            )
        info = dataset_info(name)
        raw = _read(entry, split)
        if tuple(raw.images.shape[1:]) != info.image_shape:
            raise DatasetFormatError(
                f"dataset {name!r}: the {split} images are {tuple(raw.images.shape[1:])} but "
                f"the training images are {info.image_shape}; use one size for every split"
            )
        if raw.class_names is not None and raw.class_names != info.class_names:
            raise DatasetFormatError(
                f"dataset {name!r}: the {split} split's classes {list(raw.class_names)} differ "
                f"from the dataset's {list(info.class_names)}"
            )
        if len(raw.labels) and int(raw.labels.max()) >= len(info.class_names):
            raise DatasetFormatError(
                f"dataset {name!r}: a {split} label is {int(raw.labels.max())} but there are "
                f"{len(info.class_names)} classes; fix the labels or give every class a name"
            )
        images, labels = raw.images.clone(), raw.labels.clone()
    return ImageDataset(
        images=images,
        labels=labels,
        name=name,
        class_names=info.class_names,
        mean=info.mean,
        std=info.std,
    )


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
    name = dataset if dataset is not None else getattr(model, "dataset", None)
    if name is None:
        raise DatasetRegistryError(
            f"{label} records no dataset; pass --dataset NAME (dataset= in Python) with one "
            f"of: {_known()}"
        )
    return dataset_info(name)


def _forget(name: str) -> None:
    """Drop a user registration (tests)."""
    if name not in _BUILTINS:
        _REGISTRY.pop(name, None)
