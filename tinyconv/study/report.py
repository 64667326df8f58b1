"""Results tables generated from the results JSON files, never typed by hand.

``python -m tinyconv.study --results results --readme README.md`` prints
the Markdown table and rewrites the part of the README between the markers
``<!-- results:begin -->`` and ``<!-- results:end -->`` (``--marker cpu`` uses
``<!-- cpu:begin -->`` and ``<!-- cpu:end -->``). The Sphinx docs build the same
table as reStructuredText with :func:`results_rst`.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from pathlib import Path

from tinyconv.study.runner import aggregate, load_results


def markers(name: str = "results") -> tuple[str, str]:
    """Return the begin and end markers of the table called ``name``."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


BEGIN, END = markers()
HEADER = (
    "Recipe",
    "Params",
    "Seeds",
    "Final-epoch test acc. (mean ± std)",
    "Min over seeds",
    "Seeds ≥ target",
    "Best epoch (info only)",
    "Final train acc.",
    "Wall time per run",
    "Device",
)


def _pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def results_rows(results_dir: str | os.PathLike[str]) -> list[tuple[str, ...]]:
    """Return one table row per results file in ``results_dir``, sorted by name.

    Args:
        results_dir: Folder of ``<recipe>.json`` files written by ``run_study``.

    Returns:
        Rows of strings, one column per entry of ``HEADER``.
    """
    rows = []
    for path in sorted(Path(results_dir).glob("*.json")):
        data = load_results(path)
        if not data["seeds"]:
            continue
        row = aggregate(data)
        rows.append(
            (
                path.stem,
                f"{row['params']:,}",
                str(row["seeds"]),
                f"{_pct(row['final_mean'])} ± {100 * row['final_std']:.2f}",
                _pct(row["final_min"]),
                f"{row['hits']}/{row['seeds']} (≥ {100 * row['target']:.1f} %)",
                _pct(row["best_mean"]),
                _pct(row["train_final_mean"]),
                f"{row['wall_mean']:.0f} s",
                ", ".join(row["devices"]),
            )
        )
    return rows


def results_markdown(results_dir: str | os.PathLike[str]) -> str:
    """Render :func:`results_rows` as a Markdown table.

    Args:
        results_dir: Folder of ``<recipe>.json`` files.

    Returns:
        The table, header first, one line per recipe.
    """
    lines = [HEADER, tuple("---" for _ in HEADER), *results_rows(results_dir)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def results_rst(results_dir: str | os.PathLike[str]) -> str:
    """Render :func:`results_rows` as a reStructuredText list-table.

    Args:
        results_dir: Folder of ``<recipe>.json`` files.

    Returns:
        The ``list-table`` directive, ready to ``.. include::``.
    """
    out = [".. list-table::", "   :header-rows: 1", ""]
    for cells in [HEADER, *results_rows(results_dir)]:
        out.append(f"   * - {cells[0]}")
        out += [f"     - {cell}" for cell in cells[1:]]
    return "\n".join(out) + "\n"


def replace_between_markers(text: str, table: str, name: str = "results") -> str:
    """Return ``text`` with the part between the markers of ``name`` replaced by ``table``.

    Args:
        text: The document, e.g. the README.
        table: The new table.
        name: Which table (see :func:`markers`).

    Returns:
        The updated document.

    Raises:
        ValueError: If the markers are missing.
    """
    begin, end = markers(name)
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {begin} ... {end} markers to put the table between")
    return pattern.sub(lambda _: f"{begin}\n{table}\n{end}", text, count=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the results table and optionally rewrite it into a README.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="folder of results JSON files")
    parser.add_argument("--readme", default=None, help="Markdown file to update in place")
    parser.add_argument("--marker", default="results", help="name of the README's markers")
    args = parser.parse_args(argv)
    table = results_markdown(args.results)
    print(table)
    if args.readme:
        readme = Path(args.readme)
        readme.write_text(replace_between_markers(readme.read_text(), table, args.marker))
    return 0
