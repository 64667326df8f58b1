"""Offline data layer: a dataset registry, splits, per-channel normalisation, augmentation, loading.

MNIST and FashionMNIST are built in; your own images (a folder of PNGs, arrays, a
torchvision dataset on disk) join with :func:`register_dataset` or a folder described by a
``tinyconv-dataset.json`` (:func:`register_dataset_folder`; ``--dataset-dir`` on the
command line). Typical use::

    from tinyconv.data import RandomRotation, TensorLoader, load_dataset, train_val_split

    train, val = train_val_split(load_dataset("mnist"), val_size=5_000, seed=0)
    loader = TensorLoader(train, 128, shuffle=True, device="cuda", augment=RandomRotation(10))
    for epoch in range(1, epochs + 1):  # 1-based, as tinyconv.train.fit numbers epochs
        loader.set_epoch(epoch)
        for x, y in loader:
            ...

``import tinyconv.data`` does not import torchvision: it is imported only to download
the built-in files or to read a :class:`TorchvisionSource`.
"""

from .arrays import ArraySource
from .augment import (
    RandomAffine,
    RandomHorizontalFlip,
    RandomRotation,
    random_affine,
    random_hflip,
    random_rotate,
)
from .augment_specs import (
    AUGMENTATIONS,
    Affine,
    AugmentSpec,
    Crop,
    HorizontalFlip,
    Rotation,
    augment_from_dict,
    make_augmentation,
)
from .checksums import RAW_FILES, RawFileSpec, clear_checksum_cache, file_md5, verify_file
from .crop import RandomCrop, random_crop
from .description import DESCRIPTION_FILE, register_dataset_folder
from .errors import (
    CorruptDatasetError,
    DatasetFormatError,
    DatasetMismatchError,
    DatasetNotFoundError,
    DatasetRegistryError,
)
from .image_dataset import ImageDataset
from .image_folder import ImageFolderSource
from .info import DatasetInfo
from .load import dataset_info, load_dataset
from .loader import Augmentation, TensorLoader
from .mnist import load_fashion_mnist, load_mnist
from .normalization import Normalization
from .registry import DATASETS_ENV_VAR, dataset_names, model_dataset, register_dataset
from .root import DATA_ROOT_ENV_VAR, resolve_data_root
from .scoring import Predictions, score_images
from .source import DatasetSource
from .split import resolve_val_count, train_val_split
from .torchvision_datasets import TorchvisionSource
from .warp import affine_batch, rotate_batch

__all__ = [
    "AUGMENTATIONS",
    "DATASETS_ENV_VAR",
    "DATA_ROOT_ENV_VAR",
    "DESCRIPTION_FILE",
    "RAW_FILES",
    "Affine",
    "ArraySource",
    "AugmentSpec",
    "Augmentation",
    "CorruptDatasetError",
    "Crop",
    "DatasetFormatError",
    "DatasetInfo",
    "DatasetMismatchError",
    "DatasetNotFoundError",
    "DatasetRegistryError",
    "DatasetSource",
    "HorizontalFlip",
    "ImageDataset",
    "ImageFolderSource",
    "Normalization",
    "Predictions",
    "RandomAffine",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RawFileSpec",
    "Rotation",
    "TensorLoader",
    "TorchvisionSource",
    "affine_batch",
    "augment_from_dict",
    "clear_checksum_cache",
    "dataset_info",
    "dataset_names",
    "file_md5",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "make_augmentation",
    "model_dataset",
    "random_affine",
    "random_crop",
    "random_hflip",
    "random_rotate",
    "register_dataset",
    "register_dataset_folder",
    "resolve_data_root",
    "resolve_val_count",
    "rotate_batch",
    "score_images",
    "train_val_split",
    "verify_file",
]
