"""``tinyconv summary TARGET``: the per-layer budget table of a recipe, spec JSON or model file.

TARGET is a ready recipe's name, a recipe JSON file, a JSON file holding a list of spec
dicts or an architecture dict, or a model file written by ``tinyconv.save`` (or a
training checkpoint). ``--max-params N`` checks a budget too.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs

NAME = "summary"
HELP = "per-layer shapes, parameters, receptive field and MACs of a recipe, spec or model file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the target, depth and budget options."""
    parser.add_argument("target", help="recipe name, recipe/spec JSON file, or model file")
    parser.add_argument("--depth", type=int, default=1, help="1: blocks; 2: also their parts")
    parser.add_argument("--max-params", type=int, default=None, help="check this budget")
    add_dataset_arguments(
        parser,
        "show a recipe moved onto this registered dataset (its image size, channels and "
        "classes), as tinyconv study --dataset trains it",
    )


def _model(target: str, dataset: str | None):
    from tinyconv import build, build_from_architecture, load, specs_from_list
    from tinyconv.errors import SpecError, UsageError
    from tinyconv.recipes import RECIPES, get_recipe, recipe_for_dataset

    path = Path(target)
    is_recipe = target in RECIPES or (path.suffix == ".json" and not path.is_file())
    if not is_recipe and path.suffix == ".json" and path.is_file():
        try:
            is_recipe = "train" in json.loads(path.read_text())
        except (json.JSONDecodeError, TypeError):
            is_recipe = False
    if dataset is not None:
        if not is_recipe:
            raise UsageError("--dataset moves a recipe onto a dataset; TARGET is not a recipe")
        return recipe_for_dataset(get_recipe(target), dataset).build_model(seed=0)
    if is_recipe:
        return get_recipe(target).build_model(seed=0)
    if not path.is_file():
        raise SpecError(
            f"{target!r} is neither a ready recipe ({', '.join(sorted(RECIPES))}) nor a file"
        )
    if path.suffix != ".json":
        return load(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SpecError(f"{target} is not valid JSON: {error}") from error
    if isinstance(data, list):
        return build(specs_from_list(data))
    if isinstance(data, dict) and "train" in data:
        return get_recipe(target).build_model(seed=0)
    if isinstance(data, dict) and "specs" in data:
        return build_from_architecture(data)
    raise SpecError(
        f"{target} holds neither a recipe, a list of spec dicts, nor an architecture dict"
    )


def run(args: argparse.Namespace) -> int:
    """Print the table, and check the budget if asked."""
    from tinyconv import check_budget, summary

    register_dataset_dirs(args)
    model = _model(args.target, args.dataset)
    print(summary(model, depth=args.depth))
    if args.max_params is not None:
        check_budget(model, args.max_params)
        print(f"Budget: {args.max_params:,} parameters, met.")
    return 0
