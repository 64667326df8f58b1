"""Errors for inputs the figures and the report cannot use; each message names the fix.

Both subclass :class:`~tinyconv.errors.TinyconvError` (so the ``tinyconv`` command prints
them as one line) and :class:`ValueError`. This module does not import matplotlib.
"""

from __future__ import annotations

from tinyconv.errors import TinyconvError

__all__ = ["DatasetMismatchError", "ReportInputError"]


class ReportInputError(TinyconvError, ValueError):
    """A results or model file cannot be drawn: no finished seeds, unreadable, wrong kind.

    Example:
        >>> issubclass(ReportInputError, ValueError)
        True
    """


class DatasetMismatchError(TinyconvError, ValueError):
    """A model is scored on images of another dataset, shape or class count than it was made for.

    Example:
        >>> issubclass(DatasetMismatchError, TinyconvError)
        True
    """
