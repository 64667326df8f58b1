"""``require``: import an optional dependency, or say which extra installs it."""

from __future__ import annotations

import importlib
from types import ModuleType

from tinyconv.errors import MissingExtraError


def require(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`~tinyconv.errors.MissingExtraError` naming the extra.

    Args:
        module: The module to import (``"onnxruntime"``, ``"matplotlib.pyplot"``).
        extra: The tinyconv extra that installs it (``"export"``, ``"plots"``, ``"search"``).

    Returns:
        The imported module.

    Raises:
        MissingExtraError: If the module is not installed.

    Example:
        >>> require("json", "none").__name__
        'json'
        >>> require("surely_not_installed_mod", "plots")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.errors.MissingExtraError: this needs ... 'tinyconv[plots]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".")[0]
        raise MissingExtraError(
            f"this needs {top}, which is not installed; install the optional extra with "
            f"pip install 'tinyconv[{extra}]'"
        ) from error
