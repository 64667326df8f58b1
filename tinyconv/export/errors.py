"""The errors of :mod:`tinyconv.export`, each a :class:`~tinyconv.TinyconvError` naming the fix.

``tinyconv export`` prints them as one ``error: ...`` line (exit status 2).
"""

from __future__ import annotations

from tinyconv.errors import TinyconvError

__all__ = ["CalibrationDataError", "ExportError", "UntrainedModelError", "VerificationError"]


class ExportError(TinyconvError, ValueError):
    """A model cannot be exported as asked: not traceable, not a TinyNet, a bad argument.

    Example:
        >>> issubclass(ExportError, ValueError)
        True
    """


class UntrainedModelError(ExportError):
    """The model is in training mode, or a BatchNorm has never seen data (it is untrained).

    Example:
        >>> issubclass(UntrainedModelError, ExportError)
        True
    """


class CalibrationDataError(ExportError):
    """Calibration images of the wrong shape, dtype or number for the model.

    Example:
        >>> issubclass(CalibrationDataError, ExportError)
        True
    """


class VerificationError(ExportError):
    """An exported file computes something other than the model; nothing was written.

    Example:
        >>> issubclass(VerificationError, ExportError)
        True
    """
