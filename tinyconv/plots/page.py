"""The report's folder and page: PNG figures and an ``index.html`` that embeds them.

Both :func:`~tinyconv.plots.build_report` and :func:`~tinyconv.plots.build_search_report`
write one folder through :func:`report_folder`: the figures and the page are built in a
staging folder beside ``--out`` and moved into place whole (see
:func:`tinyconv.outputs.output_folder`), so Ctrl-C or an error leaves nothing and a
finished folder never mixes two runs. ``index.html`` carries every figure inline
(base64 PNG), so the page alone is the whole report: it loads nothing from the network
or from beside it. The PNGs are written too, for reuse. The page holds no timestamp, so
the same inputs give the same files.
"""

from __future__ import annotations

import base64
import contextlib
import html
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from tinyconv.atomic import atomic_write
from tinyconv.outputs import output_folder
from tinyconv.plots._style import save_png

__all__ = ["Page", "ReportFolder", "is_report_file", "report_folder"]

INDEX = "index.html"

CONTENT_WIDTH_PX = 1260
"""Width the widest figure is shown at; the others are shown at the same scale, so every
figure's text has one size on the page."""


def png_size(data: bytes) -> tuple[int, int]:
    r"""Return a PNG's ``(width, height)`` in pixels, read from its header.

    Example:
        >>> import struct
        >>> header = struct.pack(">II", 1540, 480) + bytes([8, 6, 0, 0, 0])
        >>> png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header
        >>> png_size(png)
        (1540, 480)
    """
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def is_report_file(name: str) -> bool:
    """Whether a report writes files of this name (the page and PNG figures).

    Example:
        >>> is_report_file("index.html"), is_report_file("budget.png"), is_report_file("a.csv")
        (True, True, False)
    """
    return name == INDEX or name.endswith(".png")


@dataclass
class Page:
    """What the page shows, in order: title, numbers, figures, notes.

    Attributes:
        title: The heading.
        subtitle: A line under it (may be empty).
        numbers: ``(label, value)`` rows of the table under the heading.
        figures: ``(file name, caption)`` of each figure, in page order.
        notes: Figures left out and why.
    """

    title: str
    subtitle: str = ""
    numbers: list[tuple[str, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportFolder:
    """A report being written: draw figures into it, then write the page.

    Attributes:
        out: Where the folder will be once finished.
        staging: Where its files are written meanwhile.
        images: The PNG files (their final paths), in page order.
    """

    out: Path
    staging: Path
    images: list[Path] = field(default_factory=list)

    def draw(self, page: Page, file_name: str, figure: Figure, caption: str) -> None:
        """Save ``figure`` as ``file_name`` and show it on ``page`` under ``caption``."""
        save_png(figure, self.staging / file_name)
        self.images.append(self.out / file_name)
        page.figures.append((file_name, caption))

    def write_page(self, page: Page) -> Path:
        """Write ``index.html`` with every figure embedded; return its final path."""
        text = render(page, self.staging)
        atomic_write(self.staging / INDEX, lambda file: file.write(text.encode()))
        return self.out / INDEX


@contextlib.contextmanager
def report_folder(
    out_dir: str | os.PathLike[str], *, overwrite: bool = False
) -> Iterator[ReportFolder]:
    """Open a report folder: checked now, moved into place whole when the block ends.

    Args:
        out_dir: The report's folder (``--out``).
        overwrite: Replace a folder that holds an earlier report (and nothing else).

    Yields:
        The folder to draw into.

    Raises:
        OutputExistsError: If ``out_dir`` holds files and ``overwrite`` is false.
        OutputPathError: If ``out_dir`` is a file, holds files a report does not write,
            or cannot be written.
    """
    with output_folder(
        out_dir, overwrite=overwrite, owns=is_report_file, command="tinyconv report"
    ) as staging:
        yield ReportFolder(out=Path(out_dir), staging=staging)


_CSS = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em auto; max-width: 1300px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin-bottom: 0.3em; }
p.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0 2em; }
th, td { text-align: left; padding: 0.35em 1em 0.35em 0; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th { font-weight: normal; color: #555; white-space: nowrap; }
td code { font-size: 0.95em; overflow-wrap: anywhere; }
figure { margin: 0 0 2.5em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-weight: bold; margin-bottom: 0.4em; }
figcaption span { font-weight: normal; color: #777; font-size: 0.85em; margin-left: 0.6em; }
ul.notes { color: #555; }
"""


def render(page: Page, folder: str | os.PathLike[str]) -> str:
    """Return the page's HTML, with the figures' PNGs in ``folder`` embedded as data URIs.

    Args:
        page: What to show.
        folder: Where the figures' PNG files are.

    Returns:
        A complete HTML document that refers to no other file.
    """
    e = html.escape
    rows = []
    for key, value in page.numbers:
        cell = f"<code>{e(value)}</code>" if key == "Command" else e(value)
        rows.append(f"<tr><th>{e(key)}</th><td>{cell}</td></tr>")
    pngs = [(Path(folder) / file).read_bytes() for file, _ in page.figures]
    sizes = [png_size(png) for png in pngs]
    scale = min(1.0, CONTENT_WIDTH_PX / max((w for w, _ in sizes), default=1))
    figures = []
    for (file, caption), png, (width, height) in zip(page.figures, pngs, sizes, strict=True):
        data = base64.b64encode(png).decode("ascii")
        figures.append(
            f"<figure><figcaption>{e(caption)}<span>{e(file)}</span></figcaption>"
            f'<img src="data:image/png;base64,{data}" alt="{e(caption)}" data-file="{e(file)}" '
            f'width="{round(width * scale)}" height="{round(height * scale)}"></figure>'
        )
    notes = "".join(f"<li>{e(note)}</li>" for note in page.notes)
    subtitle = f'<p class="subtitle">{e(page.subtitle)}</p>' if page.subtitle else ""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(page.title)}: tinyconv report</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{e(page.title)}</h1>",
            subtitle,
            "<table>",
            *rows,
            "</table>",
            *figures,
            f'<h2>Left out</h2><ul class="notes">{notes}</ul>' if notes else "",
            "</body>",
            "</html>",
            "",
        ]
    )
