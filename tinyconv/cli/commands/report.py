"""``tinyconv report``: figures and an ``index.html`` for a results file or a model file."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs
from tinyconv.cli.thread_options import add_threads_argument, apply_thread_option

NAME = "report"
HELP = (
    "Draw a results file's learning curves (and, with model files beside it, the budget, "
    "confusion matrix, misclassified images and SE gates) or a model file's figures, and "
    "write them with an index.html."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``report`` arguments to ``parser``."""
    parser.add_argument(
        "source",
        metavar="RESULTS_OR_MODEL",
        help="a results file (results/<recipe>.json), a model file written by tinyconv.save, "
        "or a search (its --out folder, journal file or storage URL)",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="folder for index.html and the PNGs: a new or empty one (the report is built "
        "aside and moved in whole)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out whole when it holds an earlier report (never a folder of other files)",
    )
    add_threads_argument(parser)
    add_dataset_arguments(
        parser,
        "registered dataset of the test images (default: the one the model or the "
        "results' recipe records)",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        help="parameter budget to draw (default: the recipe's max_params)",
    )


def run(args: argparse.Namespace) -> int:
    """Write the report; print where it is and any figure left out."""
    from tinyconv._extras import require

    require("matplotlib", "plots")
    from tinyconv.plots.html_report import build_report

    register_dataset_dirs(args)
    apply_thread_option(args)
    words = ["tinyconv", "report", args.source, "--out", args.out]
    for path in args.dataset_dir:
        words += ["--dataset-dir", path]
    for flag, value in (
        ("--data-dir", args.data_dir),
        ("--dataset", args.dataset),
        ("--budget", args.budget),
    ):
        if value is not None:
            words += [flag, str(value)]
    source = args.source
    if (
        "://" in source
        or source.startswith("journal:")
        or source.endswith(".journal")
        or (Path(source).is_dir())
    ):  # a search: its folder, journal file or storage URL
        from tinyconv.plots.search import build_search_report

        report = build_search_report(
            args.source, args.out, command=shlex.join(words), overwrite=args.overwrite
        )
        print(f"wrote {report.index} and {len(report.images)} figure(s)")
        return 0
    report = build_report(
        args.source,
        args.out,
        data_dir=args.data_dir,
        dataset=args.dataset,
        budget=args.budget,
        command=shlex.join(words),
        overwrite=args.overwrite,
    )
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {report.index} and {len(report.images)} figure(s)")
    return 0
