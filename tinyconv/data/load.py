"""Reading a registered dataset: its facts (:func:`dataset_info`) and splits (:func:`load_dataset`).

What a registration leaves out is read from the training split once per process: class
names from the source (or ``"0"``, ``"1"``, ...), the image shape from the images, and the
per-channel mean and std computed over every training pixel
(:meth:`~tinyconv.data.Normalization.from_images`).

Built-in datasets are read from the data root (:mod:`tinyconv.data.mnist`); a registered
dataset's split comes from its source, read once per process (each call gets its own copy
of the tensors), and is checked against the dataset's facts: one image shape for every
split, the same classes, labels inside them.
"""

from __future__ import annotations

import os

from tinyconv.normalization import Normalization

from .errors import DatasetFormatError, DatasetNotFoundError, DatasetRegistryError
from .image_dataset import ImageDataset
from .info import DatasetInfo
from .mnist import read_builtin_split
from .registry import Registration, registration
from .root import resolve_data_root
from .source import SPLITS, RawSplit

__all__ = ["dataset_info", "load_dataset"]


def _read(entry: Registration, split: str) -> RawSplit:
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
    entry = registration(name)
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
    entry = registration(name)
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
            got, want = tuple(raw.images.shape[1:]), info.image_shape
            fix = (
                f"the {split} split has {got[0]} channel(s) and the training split {want[0]}: "
                'set "channels" in its tinyconv-dataset.json to convert every image'
                if got[0] != want[0]
                else "use one size for every split"
            )
            raise DatasetFormatError(
                f"dataset {name!r}: the {split} images are {got} (channels, height, width) but "
                f"the training images are {want}; {fix}"
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
