"""The error types a user is meant to see, under one base class.

Every error that tinyconv raises on purpose for bad input (a missing dataset, a
corrupt file, a spec that does not fit, a results file of another setting)
subclasses :class:`TinyconvError` and also the builtin it used to be, so
``except ValueError`` keeps working while the ``tinyconv`` command can print
these as one line and keep the traceback for anything unexpected.
"""

from __future__ import annotations

__all__ = [
    "MissingExtraError",
    "ModelFileError",
    "ModelGraphError",
    "ModelInputError",
    "OutputExistsError",
    "OutputPathError",
    "ReportFileError",
    "ResultsMismatchError",
    "SpecError",
    "TinyconvError",
    "UsageError",
]


class TinyconvError(Exception):
    """Base of the errors tinyconv raises on purpose; the message names the fix.

    Example:
        >>> from tinyconv.data import DatasetNotFoundError
        >>> issubclass(DatasetNotFoundError, TinyconvError)
        True
    """


class SpecError(TinyconvError, ValueError):
    """A spec dict or spec list is malformed: unknown kind, unknown or missing field, bad type.

    Example:
        >>> issubclass(SpecError, ValueError)
        True
    """


class ModelFileError(TinyconvError, ValueError):
    """A model file is unreadable, truncated, corrupt or not a tinyconv model file.

    Example:
        >>> issubclass(ModelFileError, ValueError)
        True
    """


class ReportFileError(TinyconvError, ValueError):
    """A saved report is unreadable, not JSON, or not of the kind asked for.

    Raised by the loaders of ``tinyconv export``'s and ``tinyconv mcu``'s reports
    (:mod:`tinyconv.report_files`).

    Example:
        >>> issubclass(ReportFileError, ValueError)
        True
    """


class ModelGraphError(TinyconvError, ValueError):
    """A model an analysis cannot read: its graph does not trace, or it has no input shape.

    BatchNorm folding and the device estimates read a model's dataflow; every model
    :func:`tinyconv.build` makes can be traced and says its input shape.

    Example:
        >>> issubclass(ModelGraphError, ValueError)
        True
    """


class ModelInputError(TinyconvError, ValueError):
    """A batch a model cannot take: wrong shape or dtype, or values far outside its range.

    Example:
        >>> issubclass(ModelInputError, ValueError)
        True
    """


class OutputPathError(TinyconvError, OSError):
    """An output path that cannot be written: read-only, a file where a folder belongs, ...

    Example:
        >>> issubclass(OutputPathError, OSError)
        True
    """


class OutputExistsError(OutputPathError, FileExistsError):
    """An output that exists already and is not to be replaced without being asked to.

    Example:
        >>> issubclass(OutputExistsError, FileExistsError)
        True
    """


class MissingExtraError(TinyconvError, ImportError):
    """An optional dependency is missing; the message names the extra that installs it.

    Example:
        >>> issubclass(MissingExtraError, ImportError)
        True
    """


class ResultsMismatchError(TinyconvError, ValueError):
    """A results file belongs to another setting (recipe, epochs, data size) than this run.

    Example:
        >>> issubclass(ResultsMismatchError, ValueError)
        True
    """


class UsageError(TinyconvError, ValueError):
    """An option or argument outside what it allows (``--epochs 0``, ``--threads 0``).

    Example:
        >>> issubclass(UsageError, ValueError)
        True
    """
