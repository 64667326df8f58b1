"""Command line for the example recipes: ``python examples/mnist_v5.py --seeds 5``.

Prints the model's budget table, checks the budget, trains the requested seeds
(skipping those already in ``<out>/<name>.json``), writes each seed's history as
CSV beside it, and prints the final-epoch summary over all finished seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinyconv.data import load_mnist
from tinyconv.study.recipe import Recipe
from tinyconv.study.runner import TARGET_ACCURACY, aggregate, run_study
from tinyconv.summary import summary
from tinyconv.train import History


def parse_args(recipe: Recipe, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the example's arguments.

    Args:
        recipe: The recipe whose defaults (epochs) the arguments start from.
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        prog=f"{recipe.name}.py", description=recipe.description or recipe.name
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder holding MNIST/raw/... (default: $TINYCONV_DATA, else ./data)",
    )
    parser.add_argument("--epochs", type=int, default=recipe.train.epochs)
    parser.add_argument("--seeds", type=int, default=1, help="run seeds 0..N-1 (default 1)")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument("--out", default="results", help="folder for results JSON and CSV")
    parser.add_argument(
        "--train-subset",
        type=int,
        default=None,
        help="train on the first N images (smoke runs; saved as <name>_trainN.json)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.seeds < 1:
        parser.error("--epochs and --seeds must be >= 1")
    return args


def format_aggregate(name: str, row: dict[str, Any]) -> str:
    """Render :func:`~tinyconv.study.aggregate` output as a few readable lines.

    Args:
        name: The recipe's name.
        row: Output of :func:`~tinyconv.study.aggregate`.

    Returns:
        Four lines: seeds and params, final-epoch accuracy, best epoch, train accuracy and time.
    """
    return (
        f"{name}: {row['seeds']} seed(s), {row['params']:,} params\n"
        f"  final-epoch test accuracy: {100 * row['final_mean']:.2f} % "
        f"± {100 * row['final_std']:.2f} (min {100 * row['final_min']:.2f} %, "
        f"{row['hit_rate']:.0%} of seeds >= {100 * TARGET_ACCURACY:.1f} %)\n"
        f"  best epoch (for information only): {100 * row['best_mean']:.2f} % mean\n"
        f"  final train accuracy {100 * row['train_final_mean']:.2f} %, "
        f"{row['wall_mean']:.0f} s per run on {', '.join(row['devices'])}"
    )


def main(recipe: Recipe, argv: Sequence[str] | None = None) -> int:
    """Run an example recipe from the command line.

    Args:
        recipe: The recipe to run.
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit status (0 on success).
    """
    args = parse_args(recipe, argv)
    model = recipe.build_model()
    print(f"{recipe.name}: {recipe.description}")
    print(summary(model))
    print(f"Budget: {recipe.max_params:,} parameters, met.\n", flush=True)
    train_set = load_mnist(args.data_dir, train=True)
    test_set = load_mnist(args.data_dir, train=False)
    if args.train_subset is not None:
        train_set = train_set.subset(range(args.train_subset))
        # Runs on a subset are kept apart from the full-data results.
        recipe = dataclasses.replace(recipe, name=f"{recipe.name}_train{args.train_subset}")
    out = Path(args.out)

    def report(result: dict[str, Any]) -> None:
        csv_path = out / recipe.name / f"seed{result['seed']}.csv"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        History.from_list(result["history"]).to_csv(csv_path)
        print(
            f"seed {result['seed']}: final test {100 * result['final_test_acc']:.2f} %, "
            f"best {100 * result['best_test_acc']:.2f} % (epoch {result['best_epoch']}), "
            f"{result['wall_seconds']:.0f} s on {result['device_name']}",
            flush=True,
        )

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    data = run_study(
        recipe,
        seeds,
        train_set,
        test_set,
        out_dir=out,
        device=args.device,
        epochs=args.epochs if args.epochs != recipe.train.epochs else None,
        progress=False if args.quiet else None,
        on_seed=report,
    )
    print(format_aggregate(recipe.name, aggregate(data)))
    return 0
