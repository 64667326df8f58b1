"""Offline data layer: local MNIST/FashionMNIST, splits, tensor augmentation, batch loading.

Typical use::

    from tinyconv.data import RandomRotation, TensorLoader, load_mnist, train_val_split

    train, val = train_val_split(load_mnist(), val_size=5_000, seed=0)
    loader = TensorLoader(train, 128, shuffle=True, device="cuda", augment=RandomRotation(10))
    for epoch in range(1, epochs + 1):  # 1-based, as tinyconv.train.fit numbers epochs
        loader.set_epoch(epoch)
        for x, y in loader:
            ...
"""

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
    HorizontalFlip,
    Rotation,
    augment_from_dict,
    make_augmentation,
)
from .checksums import RAW_FILES, RawFileSpec, clear_checksum_cache, file_md5, verify_file
from .datasets import (
    DATA_ROOT_ENV_VAR,
    DATASET_STATS,
    DatasetStats,
    dataset_info,
    load_dataset,
    load_fashion_mnist,
    load_mnist,
    resolve_data_root,
)
from .errors import CorruptDatasetError, DatasetNotFoundError
from .image_dataset import ImageDataset
from .loader import Augmentation, TensorLoader
from .split import resolve_val_count, train_val_split
from .warp import affine_batch, rotate_batch

__all__ = [
    "AUGMENTATIONS",
    "DATASET_STATS",
    "DATA_ROOT_ENV_VAR",
    "RAW_FILES",
    "Affine",
    "AugmentSpec",
    "Augmentation",
    "CorruptDatasetError",
    "DatasetNotFoundError",
    "DatasetStats",
    "HorizontalFlip",
    "ImageDataset",
    "RandomAffine",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RawFileSpec",
    "Rotation",
    "TensorLoader",
    "affine_batch",
    "augment_from_dict",
    "clear_checksum_cache",
    "dataset_info",
    "file_md5",
    "load_dataset",
    "load_fashion_mnist",
    "load_mnist",
    "make_augmentation",
    "random_affine",
    "random_hflip",
    "random_rotate",
    "resolve_data_root",
    "resolve_val_count",
    "rotate_batch",
    "train_val_split",
    "verify_file",
]
