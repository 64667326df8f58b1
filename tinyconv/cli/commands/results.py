"""``tinyconv results PATH``: the final-epoch results table of a results file or folder.

PATH is one ``<recipe>.json`` written by ``tinyconv study`` or the folder holding several
(its ``--out``, by default ``runs``); a missing path, or one without finished seeds, is
an error. With ``--readme FILE`` the table also replaces the part of FILE between the
markers ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` (``--marker NAME``, default
``results``).
"""

from __future__ import annotations

import argparse

NAME = "results"
HELP = "print the final-epoch results table of a results file or folder (optionally into a README)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the path, README and marker options."""
    from tinyconv.study.results import DEFAULT_OUT_DIR

    parser.add_argument(
        "path",
        metavar="PATH",
        nargs="?",
        default=DEFAULT_OUT_DIR,
        help=f"a results file (<recipe>.json) or a folder of them (default: {DEFAULT_OUT_DIR})",
    )
    parser.add_argument("--readme", default=None, help="Markdown file to update in place")
    parser.add_argument(
        "--marker", default="results", help="name of the README's markers (default: results)"
    )


def run(args: argparse.Namespace) -> int:
    """Print the table (and write it into the README)."""
    from tinyconv.study.tables import results_markdown, write_table

    table = results_markdown(args.path)
    if args.readme:
        write_table(args.readme, table, args.marker)
    print(table)
    return 0
