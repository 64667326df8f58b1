"""Trained models tinyconv ships: seed 0 of a few committed studies, loadable by name.

``tinyconv.load("mnist_v5")`` reads ``mnist_v5.model.pt`` from this folder when no file of
that name exists; each file is a byte-for-byte copy of the committed model file named in
:data:`SHIPPED` (a test checks the copies and that each scores its recorded accuracy).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SHIPPED", "shipped_path"]

SHIPPED = {
    "mnist_v5": "results/cpu/mnist_v5/seed0.model.pt",
    "mnist_wide_onecycle": "results/frontier/mnist_wide_onecycle/seed0.model.pt",
    "mnist_4k_onecycle": "results/frontier/mnist_4k_onecycle/seed0.model.pt",
    "fashion_v5": "results/fashion/fashion_v5/seed0.model.pt",
}
"""Name -> the committed model file (in the repository) the shipped copy was taken from."""


def shipped_path(name: str) -> Path | None:
    """The shipped model file of ``name``, or ``None`` if tinyconv ships none by that name.

    Args:
        name: A name of :data:`SHIPPED` (``"mnist_v5"``).

    Returns:
        The file's path inside the installed package.

    Example:
        >>> shipped_path("mnist_v5").name, shipped_path("no_such_model")
        ('mnist_v5.model.pt', None)
    """
    if name not in SHIPPED:
        return None
    return Path(__file__).with_name(f"{name}.model.pt")
