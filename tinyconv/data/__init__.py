"""Offline data layer: a dataset registry, splits, per-channel normalisation, augmentation, loading.

MNIST and FashionMNIST are built in; your own images (a folder of PNGs, arrays, a
torchvision dataset on disk) join with :func:`register_dataset` or a folder described by a
``tinyconv-dataset.json`` (:func:`register_dataset_folder`; ``--dataset-dir`` on the
command line). This namespace holds what a user calls; its modules hold the rest (the functional
augmentations in ``augment``/``warp``/``crop``, checksums, the IDX reader, the error
types in ``errors``). Typical use::

    from tinyconv.data import TensorLoader, load_dataset, train_val_split
    from tinyconv.data.augment import RandomRotation

    train, val = train_val_split(load_dataset("mnist"), val_size=5_000, seed=0)
    loader = TensorLoader(train, 128, shuffle=True, device="cuda", augment=RandomRotation(10))
    for epoch in range(1, epochs + 1):  # 1-based, as tinyconv.train.fit numbers epochs
        loader.set_epoch(epoch)
        for x, y in loader:
            ...

``import tinyconv.data`` does not import torchvision: it is imported only to download
the built-in files or to read a :class:`TorchvisionSource`.
"""

from tinyconv.normalization import Normalization

from .arrays import ArraySource
from .augment_specs import Affine, AugmentSpec, Crop, HorizontalFlip, Rotation
from .description import register_dataset_folder
from .errors import (
    CorruptDatasetError,
    DatasetFormatError,
    DatasetMismatchError,
    DatasetNotFoundError,
    DatasetRegistryError,
    SplitError,
)
from .image_dataset import ImageDataset
from .image_folder import ImageFolderSource
from .info import DatasetInfo
from .load import dataset_info, load_dataset
from .registry import dataset_names, model_dataset, register_dataset
from .root import resolve_data_root
from .scoring import Predictions, score_images
from .split import ValidationSplit, train_val_split
from .tensor_loader import TensorLoader
from .torchvision_datasets import TorchvisionSource

__all__ = [
    "Affine",
    "ArraySource",
    "AugmentSpec",
    "CorruptDatasetError",
    "Crop",
    "DatasetFormatError",
    "DatasetInfo",
    "DatasetMismatchError",
    "DatasetNotFoundError",
    "DatasetRegistryError",
    "HorizontalFlip",
    "ImageDataset",
    "ImageFolderSource",
    "Normalization",
    "Predictions",
    "Rotation",
    "SplitError",
    "TensorLoader",
    "TorchvisionSource",
    "ValidationSplit",
    "dataset_info",
    "dataset_names",
    "load_dataset",
    "model_dataset",
    "register_dataset",
    "register_dataset_folder",
    "resolve_data_root",
    "score_images",
    "train_val_split",
]
