"""The docs' tables built from results keep each value on one line (they wrapped every cell of
the 12-column results table onto 3-5 lines). Checked on the Sphinx configuration and its
stylesheet, without a browser; the rendered page was looked at in headless Chromium."""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path

from tinyconv.study.tables import results_rst

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _config() -> dict[str, object]:
    """The literal ``html_*`` settings of docs/conf.py (read, not run: no page generation)."""
    found: dict[str, object] = {}
    for node in ast.parse((DOCS / "conf.py").read_text()).body:
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        name = getattr(target, "id", "")
        if name.startswith("html_") and getattr(node, "value", None) is not None:
            with contextlib.suppress(ValueError):
                found[name] = ast.literal_eval(node.value)
    return found


def test_the_results_table_cells_stay_on_one_line() -> None:
    config = _config()
    css_files = config["html_css_files"]
    assert isinstance(css_files, list) and css_files
    static = [DOCS / folder for folder in config["html_static_path"]]  # type: ignore[union-attr]
    sheets = [folder / name for folder in static for name in css_files if (folder / name).is_file()]
    assert sheets, (static, css_files)
    css = " ".join(sheet.read_text() for sheet in sheets)
    rules = dict(re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)))
    cells = [
        body for selector, body in rules.items() if re.search(r"table\.docutils\S*\s+td", selector)
    ]
    assert any("white-space: nowrap" in body for body in cells), rules
    assert results_rst(DOCS.parent / "results").startswith(".. list-table::")  # Sphinx: docutils
