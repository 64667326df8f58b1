"""``tinyconv study RECIPE``: train a recipe's seeds and record final-epoch results.

RECIPE is a ready recipe's name (``tinyconv study mnist_v5 --seeds 5``) or a recipe JSON
file. Finished seeds are skipped and an interrupted seed continues from its last epoch.
"""

from __future__ import annotations

import argparse

NAME = "study"
HELP = "train a recipe (name or JSON file) for several seeds; resumable"
RESUMABLE = True  # rerun after Ctrl-C: finished seeds are kept, a running seed continues


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the recipe and the study options."""
    from tinyconv.study.cli import add_study_arguments

    parser.add_argument("recipe", help="ready recipe name (e.g. mnist_v5) or recipe JSON file")
    add_study_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the study."""
    from tinyconv.recipes import get_recipe
    from tinyconv.study.cli import run_recipe

    return run_recipe(get_recipe(args.recipe), args)
