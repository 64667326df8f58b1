"""The one look of every tinyconv figure, and the deterministic PNG writer.

Figures are made with :class:`matplotlib.figure.Figure` directly (never ``pyplot``), so
building one neither needs a display nor touches the caller's global backend, and they
are drawn by Agg when saved. The style is fixed here rather than read from the user's
``matplotlibrc``, so the same input gives the same pixels on every machine with the same
matplotlib; :func:`save_png` also strips the PNG's "Software" text chunk, so the bytes
carry no version string or timestamp.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinyconv._extras import require

require("matplotlib", "plots")

import matplotlib as mpl  # noqa: E402  (after the check that names the extra)
from matplotlib.figure import Figure  # noqa: E402

from tinyconv.atomic import atomic_write  # noqa: E402

SEQUENTIAL_CMAP = "cividis"
"""Colour map of heatmaps: perceptually uniform and monotonic in lightness, so it reads in
grayscale and for colour-blind readers."""

TRAIN_COLOR = "#2c7fb8"
"""Training curves (dark blue; drawn dashed, so they differ from test curves in grayscale)."""

TEST_COLOR = "#d95f02"
"""Test curves (dark orange; drawn solid)."""

LR_COLOR = "#555555"
"""The learning rate on its second axis (gray, dotted)."""

TARGET_COLOR = "#b2182b"
"""The target line (dark red, dash-dot)."""

DPI = 110
"""Resolution of saved PNGs: legible at the docs' content width without large files."""

STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs everywhere
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "image.cmap": SEQUENTIAL_CMAP,
    "lines.linewidth": 1.6,
    "path.simplify": False,
}
"""rcParams applied while a figure is built (the user's matplotlibrc is ignored)."""


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Apply :data:`STYLE` on top of matplotlib's defaults for the duration of a block.

    Yields:
        Nothing; build the figure inside the block.
    """
    with mpl.rc_context(rc={**mpl.rcParamsDefault, **STYLE}):
        yield


def new_figure(width: float, height: float, **kwargs: Any) -> Figure:
    """Return an empty figure of ``width`` x ``height`` inches, laid out by constrained layout.

    Call it inside :func:`style` so the figure's artists take the fixed style.
    """
    return Figure(figsize=(width, height), layout="constrained", **kwargs)


def png_bytes(figure: Figure, *, dpi: int = DPI) -> bytes:
    """Render ``figure`` with Agg into PNG bytes that depend only on the figure.

    Args:
        figure: The figure.
        dpi: Pixels per inch.

    Returns:
        The PNG file's bytes, without a "Software" chunk or a timestamp.
    """
    buffer = io.BytesIO()
    with style():
        figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def save_png(figure: Figure, path: str | os.PathLike[str], *, dpi: int = DPI) -> Path:
    """Write ``figure`` as a PNG file, atomically, with bytes that depend only on the figure.

    Args:
        figure: A figure from one of the :mod:`tinyconv.plots` functions.
        path: Destination file; its folder must exist.
        dpi: Pixels per inch.

    Returns:
        The destination path.

    Raises:
        FileNotFoundError: If the destination folder does not exist.

    Example:
        >>> import tempfile
        >>> def line() -> Figure:
        ...     with style():
        ...         fig = new_figure(2, 1)
        ...         _ = fig.add_subplot().plot([0, 1], [0, 1])
        ...     return fig
        >>> path = save_png(line(), Path(tempfile.mkdtemp()) / "line.png")
        >>> path.read_bytes() == png_bytes(line())  # same input, same bytes
        True
    """
    data = png_bytes(figure, dpi=dpi)
    return atomic_write(path, lambda file: file.write(data))
