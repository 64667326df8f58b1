"""``tinyconv search-best DIR_OR_STORAGE --out recipe.json [--trial N]``: export a winner.

Writes the best trial of a search (the highest final-epoch validation accuracy; in a
multi-objective search, the most accurate point of the Pareto front) or trial N as a
recipe JSON, rebuilt from the trial's stored parameters. Re-score it honestly with
``tinyconv study recipe.json --seeds 5``: full training set, test set scored once.
"""

from __future__ import annotations

import argparse
import shlex

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs

NAME = "search-best"
HELP = "write the best (or a chosen) trial of a search as a recipe JSON for tinyconv study"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``tinyconv search-best``.

    Args:
        parser: The subcommand's parser.
    """
    parser.add_argument(
        "where", metavar="DIR_OR_STORAGE", help="the search's --out folder or its --storage URL"
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="recipe JSON to write")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --out if it exists (default: refuse)"
    )
    parser.add_argument("--study-name", default=None, metavar="NAME", help="the study")
    parser.add_argument(
        "--trial", type=int, default=None, metavar="N", help="a complete trial instead of the best"
    )
    add_dataset_arguments(parser, data_dir=False)


def run(args: argparse.Namespace) -> int:
    """Export the recipe and say how to re-score it.

    Args:
        args: Parsed arguments.

    Returns:
        0 on success (known errors print as one line).
    """
    from tinyconv._extras import require

    require("optuna", "search")
    from tinyconv.outputs import check_output_file
    from tinyconv.search import export_recipe

    check_output_file(args.out, overwrite=args.overwrite)  # before the study is read
    register_dataset_dirs(args)
    path, _, recipe = export_recipe(
        args.where, args.out, study_name=args.study_name, trial=args.trial
    )
    print(f"{recipe.name}: {recipe.description}")
    print(f"Saved: {path}")
    dirs = "".join(f" --dataset-dir {shlex.quote(folder)}" for folder in args.dataset_dir)
    print(f"next: tinyconv study {path} --seeds 5{dirs}")
    return 0
