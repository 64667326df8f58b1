"""``tinyconv results [FOLDER]``: the final-epoch results table of every results file there.

With ``--readme FILE`` the table also replaces the part of FILE between the markers
``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` (``--marker NAME``, default ``results``).
"""

from __future__ import annotations

import argparse

NAME = "results"
HELP = "print the final-epoch results table of a results folder (optionally into a README)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the folder, README and marker options."""
    parser.add_argument("folder", nargs="?", default="results", help="folder of results JSON")
    parser.add_argument("--readme", default=None, help="Markdown file to update in place")
    parser.add_argument("--marker", default="results", help="name of the README's markers")


def run(args: argparse.Namespace) -> int:
    """Print (and optionally write) the table."""
    from tinyconv.study.report import main

    argv = ["--results", args.folder, "--marker", args.marker]
    if args.readme:
        argv += ["--readme", args.readme]
    return main(argv)
