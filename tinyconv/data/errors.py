"""Exceptions raised by the data layer.

Each subclasses a builtin so callers that already catch ``FileNotFoundError`` or
``ValueError`` keep working, while code that cares can catch the precise type.
"""

from __future__ import annotations

from tinyconv.errors import TinyconvError

__all__ = [
    "CorruptDatasetError",
    "DatasetFormatError",
    "DatasetMismatchError",
    "DatasetNotFoundError",
    "DatasetRegistryError",
    "SplitError",
]


class DatasetNotFoundError(TinyconvError, FileNotFoundError):
    """The raw files of a dataset are not where they were expected.

    The message names every missing path and how to fix it (pass a data
    directory, set ``TINYCONV_DATA``, or allow a download).

    Example:
        >>> issubclass(DatasetNotFoundError, FileNotFoundError)
        True
    """


class CorruptDatasetError(TinyconvError, ValueError):
    """A raw dataset file exists but its size or MD5 checksum is wrong.

    The message names the file, the expected and actual MD5 and size, and the fix.

    Example:
        >>> issubclass(CorruptDatasetError, ValueError)
        True
    """


class DatasetFormatError(TinyconvError, ValueError):
    """A user's dataset cannot be used as it is on disk or in memory.

    Images of mixed sizes, an unreadable image, a class folder without images, labels
    outside the classes, arrays of the wrong dtype or layout, a malformed description
    file: the message names the file or value and the fix.

    Example:
        >>> issubclass(DatasetFormatError, ValueError)
        True
    """


class DatasetRegistryError(TinyconvError, ValueError):
    """A dataset name is unknown, already taken, or a model records none.

    Example:
        >>> issubclass(DatasetRegistryError, ValueError)
        True
    """


class DatasetMismatchError(TinyconvError, ValueError):
    """A model is scored on images of another dataset, shape or class count than it was made for.

    Example:
        >>> issubclass(DatasetMismatchError, TinyconvError)
        True
    """


class SplitError(TinyconvError, ValueError):
    """A validation split or training subset that does not fit the training images.

    Example:
        >>> issubclass(SplitError, ValueError)
        True
    """
