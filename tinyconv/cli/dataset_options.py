"""The dataset options shared by the commands: ``--data-dir``, ``--dataset-dir``, ``--dataset``.

``--data-dir D`` is the root of the built-in datasets (``MNIST/raw/...``,
``FashionMNIST/raw/...``; :func:`tinyconv.data.resolve_data_root`), for the commands that
read images.
``--dataset-dir PATH`` registers the dataset described by ``PATH/tinyconv-dataset.json``
(:func:`tinyconv.data.register_dataset_folder`) before the command runs, and through
``TINYCONV_DATASETS`` in every worker process it starts; it may be repeated.
"""

from __future__ import annotations

import argparse

__all__ = ["add_dataset_arguments", "register_dataset_dirs"]


def add_dataset_arguments(
    parser: argparse.ArgumentParser, dataset_help: str | None = None, *, data_dir: bool = True
) -> None:
    """Add ``--data-dir`` (with ``data_dir``), ``--dataset-dir`` and ``--dataset NAME``.

    Args:
        parser: The subcommand's parser.
        dataset_help: Help text of ``--dataset``; ``None`` adds no ``--dataset``.
        data_dir: Add ``--data-dir`` (for a command that reads images).
    """
    if data_dir:
        parser.add_argument(
            "--data-dir",
            default=None,
            metavar="D",
            help="root of the built-in datasets (MNIST/raw/..., FashionMNIST/raw/...; "
            "default: $TINYCONV_DATA, else ./data)",
        )
    parser.add_argument(
        "--dataset-dir",
        action="append",
        default=[],
        metavar="PATH",
        help="register the dataset described by PATH/tinyconv-dataset.json (your own "
        "images: see 'Your own data' in the docs); repeat for several",
    )
    if dataset_help is not None:
        parser.add_argument("--dataset", default=None, metavar="NAME", help=dataset_help)


def register_dataset_dirs(args: argparse.Namespace) -> list[str]:
    """Register every ``--dataset-dir`` folder.

    Args:
        args: Parsed arguments with ``dataset_dir``.

    Returns:
        The registered datasets' names.

    Raises:
        DatasetNotFoundError: If a folder or its description is missing.
        DatasetFormatError: If a description is malformed.
        DatasetRegistryError: If a name is a built-in's or taken.
    """
    from tinyconv.data import register_dataset_folder

    return [register_dataset_folder(path) for path in getattr(args, "dataset_dir", [])]
