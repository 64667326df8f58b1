"""``tinyconv recipes``: the ready recipes, one line each: name, dataset, parameters, what it is."""

from __future__ import annotations

import argparse

NAME = "recipes"
HELP = "list the ready recipes: name, dataset, parameters and a one-line description"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``tinyconv recipes`` takes no arguments.

    Args:
        parser: The subcommand's parser.
    """


def run(args: argparse.Namespace) -> int:
    """Print one line per ready recipe.

    Args:
        args: Parsed arguments (none).

    Returns:
        0.
    """
    from tinyconv import count_parameters
    from tinyconv.recipes import RECIPES

    rows = [
        (
            name,
            recipe.dataset,
            f"{count_parameters(recipe.build_model(seed=0)):,}",
            recipe.description.splitlines()[0] if recipe.description else "",
        )
        for name, recipe in sorted(RECIPES.items())
    ]
    head = ("Recipe", "Dataset", "Params", "Description")
    widths = [max(len(row[i]) for row in (head, *rows)) for i in range(3)]
    for row in (head, *rows):
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}")
    print(
        "Train one with tinyconv study NAME; on your own images with --dataset NAME "
        "--dataset-dir PATH."
    )
    return 0
