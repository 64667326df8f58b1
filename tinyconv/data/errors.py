"""Exceptions raised by the data layer.

Both subclass a builtin so callers that already catch ``FileNotFoundError`` or
``ValueError`` keep working, while code that cares can catch the precise type.
"""

from __future__ import annotations

from tinyconv.errors import TinyconvError

__all__ = ["CorruptDatasetError", "DatasetNotFoundError"]


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
