"""The errors a search raises on purpose, each a :class:`~tinyconv.errors.TinyconvError`.

Each also subclasses the builtin it would otherwise be (``ValueError``,
``LookupError``), so ``except ValueError`` keeps working, and the ``tinyconv``
command prints it as one ``error:`` line.
"""

from __future__ import annotations

from tinyconv.errors import TinyconvError, UsageError

__all__ = [
    "NoTrialError",
    "SearchError",
    "SettingsError",
    "SpaceError",
    "StudyMismatchError",
    "UnknownStorageError",
]


class SearchError(TinyconvError):
    """Base of the search errors.

    Example:
        >>> issubclass(UnknownStorageError, SearchError)
        True
    """


class SettingsError(SearchError, UsageError):
    """A search setting out of range (``--trials 0``, ``--workers 0``, ``--val-size`` too big).

    Example:
        >>> issubclass(SettingsError, ValueError)
        True
    """


class UnknownStorageError(SearchError, ValueError):
    """A storage URL of a kind the search cannot open, or a database it cannot reach.

    Example:
        >>> issubclass(UnknownStorageError, ValueError)
        True
    """


class SpaceError(SearchError, ValueError):
    """A search space that cannot be found, or that yields something other than a valid recipe.

    Example:
        >>> issubclass(SpaceError, ValueError)
        True
    """


class StudyMismatchError(SearchError, ValueError):
    """A study of that name exists with another space, direction or setting.

    Example:
        >>> issubclass(StudyMismatchError, ValueError)
        True
    """


class NoTrialError(SearchError, LookupError):
    """No finished trial to export, or a trial number that is not a finished trial.

    Example:
        >>> issubclass(NoTrialError, LookupError)
        True
    """
