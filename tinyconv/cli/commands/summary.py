"""``tinyconv summary TARGET``: the per-layer budget table of a recipe, spec JSON or model file.

TARGET is a ready recipe's name, a recipe JSON file, a JSON file holding a list of spec
dicts or an architecture dict, or a model file written by ``tinyconv.save`` (or a
training checkpoint). Below the table: the model's flash, arena and instructions per
inference on a Cortex-M core, estimated (:func:`tinyconv.device_estimate.estimate_device`).
``--max-params``, ``--max-flash`` and ``--max-arena`` check budgets too.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs
from tinyconv.cli.device_budget_options import add_device_budget_arguments

NAME = "summary"
HELP = "per-layer shapes, parameters, receptive field and MACs of a recipe, spec or model file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the target, depth and budget options."""
    parser.add_argument("target", help="recipe name, recipe/spec JSON file, or model file")
    parser.add_argument("--depth", type=int, default=1, help="1: blocks; 2: also their parts")
    parser.add_argument("--max-params", type=int, default=None, help="check this budget")
    add_device_budget_arguments(parser, "checked on --cpu")
    parser.add_argument(
        "--cpu", default="cortex-m4", help="core of the device estimate (default: cortex-m4)"
    )
    add_dataset_arguments(
        parser,
        "show a recipe moved onto this registered dataset (its image size, channels and "
        "classes), as tinyconv study --dataset trains it",
        data_dir=False,
    )


def _model(target: str):
    from tinyconv import build, build_from_architecture, load, specs_from_list
    from tinyconv.errors import SpecError
    from tinyconv.recipes import RECIPES, get_recipe

    path = Path(target)
    if target in RECIPES or (path.suffix == ".json" and not path.is_file()):
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
    if args.dataset is None:
        model = _model(args.target)
    else:
        from tinyconv.errors import UsageError
        from tinyconv.recipes import RECIPES, get_recipe, recipe_for_dataset

        if args.target not in RECIPES and Path(args.target).suffix != ".json":
            raise UsageError("--dataset moves a recipe onto a dataset; TARGET is not a recipe")
        recipe = recipe_for_dataset(get_recipe(args.target), args.dataset)
        model = recipe.build_model(seed=0)
    print(summary(model, depth=args.depth))
    print(_device_estimate(model, args.cpu))
    check_budget(model, args.max_params, max_flash=args.max_flash, max_arena=args.max_arena,
                 core=args.cpu)  # fmt: skip
    met = [f"{budget:,} {unit}" for budget, unit in (
        (args.max_params, "parameters"), (args.max_flash, "flash bytes"),
        (args.max_arena, "arena bytes")) if budget is not None]  # fmt: skip
    if met:
        print(f"Budget: {', '.join(met)}, met.")
    return 0


def _device_estimate(model, core: str) -> str:
    from tinyconv.device_estimate import estimate_device
    from tinyconv.errors import ModelGraphError

    try:
        return str(estimate_device(model, core))
    except ModelGraphError as error:
        return f"No device estimate: {error}"
