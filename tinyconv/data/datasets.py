"""Loading MNIST and FashionMNIST from local raw files into an :class:`ImageDataset`.

Where the data lives is decided by :func:`resolve_data_root`: the ``root``
argument, else the ``TINYCONV_DATA`` environment variable, else ``./data``.
Under that root the files use torchvision's layout::

    <root>/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte
    <root>/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte

:func:`load_dataset` checks that the files are there (and, by default, their
MD5s), then reads them through torchvision and keeps the raw ``uint8`` tensors:
no per-sample PIL work.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torchvision

from tinyconv.errors import SpecError

from .checksums import RAW_FILES, verify_file
from .errors import CorruptDatasetError, DatasetNotFoundError
from .image_dataset import ImageDataset

__all__ = [
    "DATASET_STATS",
    "DATA_ROOT_ENV_VAR",
    "DOWNLOAD_TIMEOUT_S",
    "DatasetStats",
    "ImageDataset",
    "dataset_info",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "resolve_data_root",
]

DATA_ROOT_ENV_VAR = "TINYCONV_DATA"
"""Environment variable naming the data root when no ``root`` is passed."""

DOWNLOAD_TIMEOUT_S = 30.0
"""Socket timeout (seconds) applied while torchvision downloads, so a dead network fails."""

DatasetName = Literal["mnist", "fashion_mnist"]


@dataclass(frozen=True)
class DatasetStats:
    """One entry of the dataset registry: facts that do not depend on the copy on disk.

    A recipe names its dataset; the model is built for ``image_shape`` and
    ``len(classes)`` logits, inputs are normalised with ``mean``/``std``, and results
    report the hit rate of ``target_accuracy``.

    Attributes:
        folder: torchvision's folder (and class) name under the data root.
        mean: Mean of ``x / 255`` over the 60,000 training images.
        std: Standard deviation of ``x / 255`` over the training images.
        classes: Class names in label order.
        image_shape: ``(channels, height, width)`` of one image.
        target_accuracy: The exercise's test-accuracy bar on this dataset (MNIST: the
            classic 99.4 %; FashionMNIST: 92.5 %, what its maintainers list for a 2-conv
            CNN with under 100k parameters).

    Example:
        >>> DATASET_STATS["mnist"].mean, DATASET_STATS["mnist"].std
        (0.1307, 0.3081)
    """

    folder: str
    mean: float
    std: float
    classes: tuple[str, ...]
    image_shape: tuple[int, int, int] = (1, 28, 28)
    target_accuracy: float = 0.994

    def load(
        self, root: str | os.PathLike[str] | None = None, *, train: bool = True
    ) -> ImageDataset:
        """Load one split of this dataset (see :func:`load_dataset`).

        Args:
            root: Data root (see :func:`resolve_data_root`).
            train: Training split if ``True``, else test split.

        Returns:
            The split.
        """
        name = next(key for key, value in DATASET_STATS.items() if value is self)
        return load_dataset(name, root, train=train)  # type: ignore[arg-type]


DATASET_STATS: dict[str, DatasetStats] = {
    "mnist": DatasetStats(
        folder="MNIST",
        mean=0.1307,
        std=0.3081,
        classes=tuple(str(digit) for digit in range(10)),
    ),
    # Measured once on the train split: mean 0.28604, std 0.35302.
    "fashion_mnist": DatasetStats(
        folder="FashionMNIST",
        mean=0.2860,
        std=0.3530,
        classes=(
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
        ),
        target_accuracy=0.925,
    ),
}
"""The dataset registry: normalisation, class names, image shape and target per name."""


def dataset_info(name: str) -> DatasetStats:
    """Return the registry entry of dataset ``name``.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.

    Returns:
        Its :class:`DatasetStats`.

    Raises:
        SpecError: If the name is not registered; the message lists the known names.

    Example:
        >>> dataset_info("fashion_mnist").classes[0]
        'T-shirt/top'
    """
    if name not in DATASET_STATS:
        raise SpecError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASET_STATS)}")
    return DATASET_STATS[name]


def resolve_data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder that holds ``MNIST/raw/...`` and ``FashionMNIST/raw/...``.

    Args:
        root: Explicit data root. If ``None``, the ``TINYCONV_DATA`` environment
            variable is used when set and non-empty, else ``./data``.

    Returns:
        The root as an absolute path, ``~`` expanded and symlinks resolved (so a
        relative root means the same folder wherever it is used later); it need not
        exist.

    Example:
        >>> resolve_data_root("/datasets").as_posix()
        '/datasets'
    """
    if root is None:
        root = os.environ.get(DATA_ROOT_ENV_VAR) or "data"
    return Path(root).expanduser().resolve()


def _fix_advice(name: str, folder: str) -> str:
    return (
        f"Fix: pass the folder that contains '{folder}/raw/' as root= (--data-dir on the "
        f"command line), or set {DATA_ROOT_ENV_VAR}=/path/to/that/folder, or call "
        f"load_dataset({name!r}, download=True) on a machine with internet access."
    )


def _missing_files_message(name: str, root: Path, missing: list[Path]) -> str:
    folder = DATASET_STATS[name].folder
    lines = "\n".join(f"  {path}" for path in missing)
    hint = ""
    if (root / "raw").is_dir() or root.name == folder:
        hint = f"\nNote: {root} looks like the '{folder}' folder itself; pass its parent."
    return (
        f"Dataset {name!r} not found under data root {root}: {len(missing)} of "
        f"{len(RAW_FILES[folder])} raw files are missing:\n{lines}{hint}\n"
        f"{_fix_advice(name, folder)}"
    )


def _torchvision_class(name: str) -> type[torchvision.datasets.MNIST]:
    if name == "mnist":
        return torchvision.datasets.MNIST
    return torchvision.datasets.FashionMNIST


def _download(name: str, root: Path) -> None:
    """Let torchvision download ``name``; turn every network failure into our error."""
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        _torchvision_class(name)(str(root), train=True, download=True)
    except (RuntimeError, OSError) as error:  # URLError, timeouts, HTTP and md5 errors
        reason = str(error).strip().splitlines()
        summary = " ".join(line.strip() for line in reason[:5])
        raise DatasetNotFoundError(
            f"Dataset {name!r} is missing under {root} and downloading it failed "
            f"({type(error).__name__}: {summary}).\n"
            f"{_fix_advice(name, DATASET_STATS[name].folder)}"
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)


def load_dataset(
    name: DatasetName,
    root: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
    download: bool = False,
    verify: bool = True,
) -> ImageDataset:
    """Load one split of MNIST or FashionMNIST as uint8 tensors.

    Args:
        name: ``"mnist"`` or ``"fashion_mnist"``.
        root: Data root (see :func:`resolve_data_root`).
        train: The 60,000-image training split if ``True``, else the 10,000-image test split.
        download: If the raw files are missing, let torchvision download them.
        verify: Check the size and MD5 of the split's two raw files (cached per
            process, so repeated loads are cheap).

    Returns:
        An :class:`ImageDataset` with images ``[N, 1, 28, 28]`` and the dataset's
        training-split normalisation statistics.

    Raises:
        ValueError: If ``name`` is unknown.
        DatasetNotFoundError: If raw files are missing (and downloading is off or
            failed); the message lists the expected paths and the fix.
        CorruptDatasetError: If a raw file has the wrong size or MD5, or cannot be parsed.

    Example:
        >>> load_dataset("mnist", root="/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        DatasetNotFoundError: ...
    """
    if name not in DATASET_STATS:
        raise ValueError(f"Unknown dataset {name!r}; expected one of {sorted(DATASET_STATS)}.")
    stats = DATASET_STATS[name]
    data_root = resolve_data_root(root)
    raw_folder = data_root / stats.folder / "raw"
    specs = RAW_FILES[stats.folder]
    missing = [
        raw_folder / spec.filename for spec in specs if not (raw_folder / spec.filename).is_file()
    ]
    if missing:
        if not download:
            raise DatasetNotFoundError(_missing_files_message(name, data_root, missing))
        _download(name, data_root)
    if verify:
        prefix = "train-" if train else "t10k-"
        for spec in specs:
            if spec.filename.startswith(prefix):
                verify_file(raw_folder / spec.filename, spec.md5, spec.size)
    try:
        source = _torchvision_class(name)(str(data_root), train=train, download=False)
    except (RuntimeError, ValueError, AssertionError) as error:
        raise CorruptDatasetError(
            f"Could not parse the raw {name!r} files under {raw_folder}: {error}. "
            "Fix: load with verify=True to find the damaged file, then fetch it again."
        ) from error
    return ImageDataset(
        images=source.data.unsqueeze(1).contiguous(),
        labels=source.targets.long(),
        name=name,
        classes=stats.classes,
        mean=stats.mean,
        std=stats.std,
    )


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    *,
    train: bool = True,
    download: bool = False,
    verify: bool = True,
) -> ImageDataset:
    """Load MNIST; shorthand for ``load_dataset("mnist", ...)``.

    Args:
        root: Data root (see :func:`resolve_data_root`).
        train: Training split if ``True``, else test split.
        download: Let torchvision download missing files.
        verify: Check sizes and MD5s of the raw files.

    Returns:
        The split as an :class:`ImageDataset`.

    Raises:
        DatasetNotFoundError: If the raw files are missing.
        CorruptDatasetError: If a raw file is damaged.

    Example:
        >>> load_mnist("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        DatasetNotFoundError: ...
    """
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
        root: Data root (see :func:`resolve_data_root`).
        train: Training split if ``True``, else test split.
        download: Let torchvision download missing files.
        verify: Check sizes and MD5s of the raw files.

    Returns:
        The split as an :class:`ImageDataset`.

    Raises:
        DatasetNotFoundError: If the raw files are missing.
        CorruptDatasetError: If a raw file is damaged.

    Example:
        >>> load_fashion_mnist("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        DatasetNotFoundError: ...
    """
    return load_dataset("fashion_mnist", root, train=train, download=download, verify=verify)
