"""Where the built-in datasets live: the ``root`` argument, ``$TINYCONV_DATA``, or ``./data``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_ROOT_ENV_VAR", "resolve_data_root"]

DATA_ROOT_ENV_VAR = "TINYCONV_DATA"
"""Environment variable naming the data root when no ``root`` is passed."""


def resolve_data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder that holds ``MNIST/raw/...`` and ``FashionMNIST/raw/...``.

    Args:
        root: Explicit data root. If ``None``, the ``TINYCONV_DATA`` environment
            variable is used when set and non-empty, else ``./data``.

    Returns:
        The root as an absolute path, ``~`` expanded and symlinks resolved (so a
        relative root means the same folder wherever it is used later); it need not
        exist.

    Example:
        >>> resolve_data_root("/datasets").as_posix()
        '/datasets'
    """
    if root is None:
        root = os.environ.get(DATA_ROOT_ENV_VAR) or "data"
    return Path(root).expanduser().resolve()
