"""The built-in datasets: MNIST and FashionMNIST read from their raw IDX files.

Under the data root (see :func:`~tinyconv.data.resolve_data_root`) the files use
torchvision's layout::

    <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    <root>/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte

:func:`read_builtin_split` checks that the two files of the split it reads are there (a
root holding only the training files serves every run that never reads the test set) and,
by default, their MD5s, then parses them into ``uint8`` tensors itself: torchvision is
imported only to download missing files. :func:`load_mnist` and :func:`load_fashion_mnist`
are shorthands for :func:`~tinyconv.data.load_dataset`.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch

from tinyconv.normalization import Normalization

from .checksums import RAW_FILES, verify_file
from .errors import CorruptDatasetError, DatasetNotFoundError
from .image_dataset import ImageDataset
from .info import DatasetInfo
from .root import DATA_ROOT_ENV_VAR
from .source import SPLITS

__all__ = [
    "BUILTIN_DATASETS",
    "BUILTIN_FOLDERS",
    "DOWNLOAD_TIMEOUT_S",
    "load_fashion_mnist",
    "load_mnist",
]

DOWNLOAD_TIMEOUT_S = 30.0
"""Socket timeout (seconds) applied while torchvision downloads, so a dead network fails."""

BUILTIN_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}
"""torchvision's folder (and class) name of each built-in dataset."""

_SPLIT_PREFIX = {"train": "train-", "test": "t10k-"}


def _builtin(
    name: str, classes: tuple[str, ...], mean: float, std: float, target: float
) -> DatasetInfo:
    return DatasetInfo(
        name=name,
        class_names=classes,
        image_shape=(1, 28, 28),
        normalization=Normalization((mean,), (std,)),
        target_accuracy=target,
        splits=SPLITS,
        display_name=BUILTIN_FOLDERS[name],
        source=f"built-in: {BUILTIN_FOLDERS[name]}/raw IDX files under the data root",
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
BUILTIN_DATASETS = {
    "mnist": _builtin("mnist", tuple(str(digit) for digit in range(10)), 0.1307, 0.3081, 0.994),
    # Measured once on the train split: mean 0.28604, std 0.35302.
    "fashion_mnist": _builtin("fashion_mnist", _FASHION_CLASSES, 0.2860, 0.3530, 0.925),
}
"""The facts of the built-in datasets (their normalisation measured on the training split)."""


def _fix_advice(name: str, folder: str) -> str:
    return (
        f"Fix: pass the folder that contains '{folder}/raw/' as root= (--data-dir on the "
        f"command line), or set {DATA_ROOT_ENV_VAR}=/path/to/that/folder, or call "
        f"load_dataset({name!r}, download=True) on a machine with internet access."
    )


def _root_hint(root: Path, folder: str) -> str:
    """A note when ``root`` is the dataset's own folder or its ``raw`` folder."""
    if root.name == "raw" and root.parent.name == folder:
        return f"\nNote: {root} is the '{folder}/raw' folder itself; pass {root.parent.parent}."
    if (root / "raw").is_dir() or root.name == folder:
        return f"\nNote: {root} looks like the '{folder}' folder itself; pass its parent."
    return ""


def _missing_files_message(name: str, root: Path, split: str, missing: list[Path]) -> str:
    folder = BUILTIN_FOLDERS[name]
    lines = "\n".join(f"  {path}" for path in missing)
    return (
        f"Dataset {name!r} not found under data root {root}: {len(missing)} of the "
        f"{split} split's 2 raw files are missing:\n{lines}{_root_hint(root, folder)}\n"
        f"{_fix_advice(name, folder)}"
    )


def _download(name: str, root: Path) -> None:
    """Let torchvision download ``name``; turn every network failure into our error."""
    import torchvision  # only here: reading the files needs no torchvision

    source = torchvision.datasets.MNIST if name == "mnist" else torchvision.datasets.FashionMNIST
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        source(str(root), train=True, download=True)
    except (RuntimeError, OSError) as error:  # URLError, timeouts, HTTP and md5 errors
        reason = str(error).strip().splitlines()
        summary = " ".join(line.strip() for line in reason[:5])
        raise DatasetNotFoundError(
            f"Dataset {name!r} is missing under {root} and downloading it failed "
            f"({type(error).__name__}: {summary}).\n{_fix_advice(name, BUILTIN_FOLDERS[name])}"
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)


def _read_idx(path: Path, magic: int, dims: int) -> torch.Tensor:
    """Parse an uncompressed IDX file of unsigned bytes (MNIST's format) into a tensor."""
    data = path.read_bytes()
    header = 4 + 4 * dims
    if len(data) < header or int.from_bytes(data[:4], "big") != magic:
        raise ValueError(f"{path.name} does not start with the IDX magic number {magic:#010x}")
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    expected = header + int(torch.tensor(shape).prod())
    if len(data) != expected:
        raise ValueError(
            f"{path.name} has {len(data):,} bytes; its header {shape} needs {expected:,}"
        )
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).view(*shape)


def read_builtin_split(
    name: str,
    root: Path,
    split: str,
    *,
    download: bool = False,
    verify: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Read one split of MNIST or FashionMNIST from its raw files.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        root: The resolved data root.
        split: ``"train"`` or ``"test"``.
        download: If the split's files are missing, let torchvision download them.
        verify: Check the size and MD5 of the two files read.

    Returns:
        ``uint8`` images ``[N, 1, 28, 28]`` and ``int64`` labels ``[N]``.

    Raises:
        DatasetNotFoundError: If a file of the split is missing (and downloading is off or
            failed).
        CorruptDatasetError: If a file has the wrong size or MD5, or cannot be parsed.
    """
    folder = BUILTIN_FOLDERS[name]
    raw = root / folder / "raw"
    specs = [spec for spec in RAW_FILES[folder] if spec.filename.startswith(_SPLIT_PREFIX[split])]
    missing = [raw / spec.filename for spec in specs if not (raw / spec.filename).is_file()]
    if missing:
        if not download:
            raise DatasetNotFoundError(_missing_files_message(name, root, split, missing))
        _download(name, root)
    if verify:
        for spec in specs:
            verify_file(raw / spec.filename, spec.md5, spec.size)
    images_file, labels_file = (raw / spec.filename for spec in specs)
    try:
        images = _read_idx(images_file, 0x00000803, 3)
        labels = _read_idx(labels_file, 0x00000801, 1)
    except (OSError, ValueError, RuntimeError) as error:
        raise CorruptDatasetError(
            f"Could not parse the raw {name!r} files under {raw}: {error}. "
            "Fix: load with verify=True to find the damaged file, then fetch it again."
        ) from error
    return images.unsqueeze(1).contiguous(), labels.long()


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
    download: bool = False,
    verify: bool = True,
) -> ImageDataset:
    """Load MNIST; shorthand for ``load_dataset("mnist", ...)``.

    Args:
        root: Data root (see :func:`~tinyconv.data.resolve_data_root`).
        train: Training split if ``True``, else test split.
        download: Let torchvision download missing files.
        verify: Check sizes and MD5s of the raw files.

    Returns:
        The split as an :class:`~tinyconv.data.ImageDataset`.

    Raises:
        DatasetNotFoundError: If the raw files are missing.
        CorruptDatasetError: If a raw file is damaged.

    Example:
        >>> load_mnist("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        DatasetNotFoundError: ...
    """
    from .load import load_dataset

    return load_dataset("mnist", root, train=train, download=download, verify=verify)


def load_fashion_mnist(
    root: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
    download: bool = False,
    verify: bool = True,
) -> ImageDataset:
    """Load FashionMNIST; shorthand for ``load_dataset("fashion_mnist", ...)``.

    Args:
        root: Data root (see :func:`~tinyconv.data.resolve_data_root`).
        train: Training split if ``True``, else test split.
        download: Let torchvision download missing files.
        verify: Check sizes and MD5s of the raw files.

    Returns:
        The split as an :class:`~tinyconv.data.ImageDataset`.

    Raises:
        DatasetNotFoundError: If the raw files are missing.
        CorruptDatasetError: If a raw file is damaged.

    Example:
        >>> load_fashion_mnist("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        DatasetNotFoundError: ...
    """
    from .load import load_dataset

    return load_dataset("fashion_mnist", root, train=train, download=download, verify=verify)
