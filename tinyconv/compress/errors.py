"""The errors of :mod:`tinyconv.compress`: a budget pruning cannot reach, an unfit teacher."""

from __future__ import annotations

from tinyconv.errors import TinyconvError

__all__ = ["PruneError", "TeacherError"]


class PruneError(TinyconvError, ValueError):
    """A model cannot be pruned as asked: an unreachable budget, a model that is not a TinyNet.

    Example:
        >>> issubclass(PruneError, ValueError)
        True
    """


class TeacherError(TinyconvError, ValueError):
    """A teacher does not fit its student: another dataset, class count, input or normalisation.

    Example:
        >>> issubclass(TeacherError, ValueError)
        True
    """
