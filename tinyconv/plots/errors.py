"""Errors for inputs the figures and the report cannot use; each message names the fix.

:class:`ReportInputError` subclasses :class:`~tinyconv.errors.TinyconvError` (so the
``tinyconv`` command prints it as one line) and :class:`ValueError`. A model scored on
images it was not made for raises :class:`~tinyconv.data.errors.DatasetMismatchError`, which the
scoring in :mod:`tinyconv.data` owns. This module does not import matplotlib.
"""

from __future__ import annotations

from tinyconv.errors import TinyconvError

__all__ = ["ReportInputError"]


class ReportInputError(TinyconvError, ValueError):
    """A results or model file cannot be drawn: no finished seeds, unreadable, wrong kind.

    Example:
        >>> issubclass(ReportInputError, ValueError)
        True
    """
