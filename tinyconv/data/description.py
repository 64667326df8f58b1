"""A dataset described by a ``tinyconv-dataset.json`` file in its folder: ``--dataset-dir PATH``.

The file names the dataset, its kind and, optionally, the facts the registry would
otherwise read from the data. Paths in it are relative to its folder. Three kinds::

    {"name": "shapes", "kind": "image_folder"}                    # train/<class>/*.png, test/...
    {"name": "kws", "kind": "arrays", "train": "train.npz", "test": "test.npz",
     "class_names": ["yes", "no", "up", "down"]}
    {"name": "cifar10", "kind": "torchvision", "dataset_class": "CIFAR10", "root": ".",
     "target_accuracy": 0.9}

Keys for every kind: ``name`` and ``kind`` (required), ``class_names``, ``image_shape``,
``mean`` and ``std`` (one number per channel, both or neither), ``target_accuracy`` (a
fraction) and ``display_name``. ``image_folder`` also takes ``channels`` (1 or 3),
``train`` and ``test`` (the split folders' names); ``arrays`` takes ``train``, ``test``
(file names; ``null`` for none) and ``layout`` (``"NCHW"`` or ``"NHWC"``);
``torchvision`` takes ``dataset_class``, ``root``, ``options`` and ``has_test``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .arrays import ArraySource
from .errors import DatasetFormatError, DatasetNotFoundError
from .image_folder import ImageFolderSource
from .registry import DATASETS_ENV_VAR, register_dataset
from .source import DatasetSource
from .torchvision_datasets import TorchvisionSource

__all__ = ["DESCRIPTION_FILE", "register_dataset_folder"]

DESCRIPTION_FILE = "tinyconv-dataset.json"
"""The name of a dataset folder's description file."""

_COMMON = {
    "name",
    "kind",
    "class_names",
    "image_shape",
    "mean",
    "std",
    "target_accuracy",
    "display_name",
    "version",
}
_KINDS = {
    "image_folder": {"channels", "train", "test"},
    "arrays": {"train", "test", "layout"},
    "torchvision": {"dataset_class", "root", "options", "has_test"},
}


def _source(kind: str, data: dict[str, Any], folder: Path, where: str) -> DatasetSource:
    def path(key: str, default: str | None) -> Path | None:
        value = data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise DatasetFormatError(f"{where}: {key!r} must be a path string, got {value!r}")
        return (folder / value).resolve()

    if kind == "image_folder":
        return ImageFolderSource(
            folder,
            class_names=data.get("class_names"),
            channels=data.get("channels"),
            train=data.get("train", "train"),
            test=data.get("test", "test"),
        )
    if kind == "arrays":
        return ArraySource(
            train=path("train", "train.npz"),  # type: ignore[arg-type]
            test=path("test", "test.npz"),
            class_names=data.get("class_names"),
            layout=data.get("layout"),
        )
    if "dataset_class" not in data:
        raise DatasetFormatError(f"{where}: a torchvision dataset needs 'dataset_class'")
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise DatasetFormatError(f"{where}: 'options' must be an object, got {options!r}")
    return TorchvisionSource(
        str(data["dataset_class"]),
        path("root", "."),  # type: ignore[arg-type]
        options=options,
        has_test=bool(data.get("has_test", True)),
    )


def register_dataset_folder(path: str | os.PathLike[str], *, export: bool = True) -> str:
    """Register the dataset described by ``<path>/tinyconv-dataset.json``.

    Registering the same folder again does nothing. With ``export`` the folder is also
    added to the ``TINYCONV_DATASETS`` environment variable, so every process started from
    this one (search and study workers) knows the dataset too.

    Args:
        path: The dataset's folder (or its description file).
        export: Add the folder to ``TINYCONV_DATASETS``.

    Returns:
        The dataset's name.

    Raises:
        DatasetNotFoundError: If the folder or its description is missing.
        DatasetFormatError: If the description is not valid JSON or holds unknown keys,
            an unknown kind, or malformed values.
        DatasetRegistryError: If the name is a built-in's or taken by another folder.

    Example:
        >>> import json, tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / DESCRIPTION_FILE).write_text(json.dumps({"name": "mnist", "kind": "arrays"}))
        >>> register_dataset_folder(folder, export=False)
        Traceback (most recent call last):
        ...
        tinyconv.data.errors.DatasetRegistryError: 'mnist' is a built-in dataset; give yours another name (e.g. 'my_mnist')
    """  # noqa: E501
    given = Path(path).expanduser().resolve()
    folder = given.parent if given.name == DESCRIPTION_FILE else given
    file = folder / DESCRIPTION_FILE
    if not file.is_file():
        raise DatasetNotFoundError(
            f"no {DESCRIPTION_FILE} in {folder}; a dataset folder needs one, e.g. "
            '{"name": "my_images", "kind": "image_folder"} beside its train/ and test/ folders'
        )
    where = str(file)
    try:
        data = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatasetFormatError(f"{where} is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise DatasetFormatError(f"{where} must hold a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in _KINDS:
        raise DatasetFormatError(
            f"{where}: 'kind' must be one of {', '.join(sorted(_KINDS))}, got {kind!r}"
        )
    unknown = sorted(set(data) - _COMMON - _KINDS[kind])
    if unknown or "name" not in data:
        problem = f"unknown keys {unknown}" if unknown else "no 'name'"
        raise DatasetFormatError(
            f"{where} has {problem}; known keys for kind {kind!r}: "
            f"{', '.join(sorted(_COMMON | _KINDS[kind]))}"
        )
    if data.get("version", 1) != 1:
        raise DatasetFormatError(f"{where}: version {data['version']!r} is not supported; use 1")
    name = data["name"]
    register_dataset(
        name,
        _source(kind, data, folder, where),
        class_names=data.get("class_names"),
        image_shape=data.get("image_shape"),
        mean=data.get("mean"),
        std=data.get("std"),
        target_accuracy=data.get("target_accuracy"),
        display_name=data.get("display_name"),
        _folder=folder,
    )
    if export:
        listed = [
            entry for entry in os.environ.get(DATASETS_ENV_VAR, "").split(os.pathsep) if entry
        ]
        if str(folder) not in listed:
            os.environ[DATASETS_ENV_VAR] = os.pathsep.join([*listed, str(folder)])
    return name
