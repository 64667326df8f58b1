"""Command line of a study: ``python examples/mnist_v5.py --seeds 5`` or ``tinyconv study``.

Prints the model's budget table, checks the budget, trains the requested seeds (skipping
those already in ``<out>/<name>.json``, continuing a seed that was interrupted), prints a
line per epoch (or a bar on a terminal) and one per finished seed, and the final-epoch
summary over all finished seeds. Known errors (data not found, a results file of another
setting) print as one ``error:`` line.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from typing import Any

from tinyconv.cli import run_guarded
from tinyconv.data import load_dataset
from tinyconv.study.recipe import Recipe
from tinyconv.study.results import DEFAULT_OUT_DIR
from tinyconv.study.runner import run_study
from tinyconv.study.seed_stats import aggregate
from tinyconv.summary import summary
from tinyconv.train.compiled import COMPILE_MODES


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of a study run (all but the recipe) to ``parser``.

    Args:
        parser: The parser to extend.
    """
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder holding MNIST/raw/... and FashionMNIST/raw/... "
        "(default: $TINYCONV_DATA, else ./data)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--seeds", type=int, default=1, help="run seeds first..first+N-1")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT_DIR,
        help=f"folder for results, models, CSVs (default: {DEFAULT_OUT_DIR}; keep committed "
        "results apart from new runs)",
    )
    parser.add_argument(
        "--train-subset",
        type=int,
        default=None,
        help="train on the first N images (smoke runs; saved as <name>_trainN.json)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--stack",
        type=int,
        default=1,
        metavar="K",
        help="train new seeds K at a time as one stacked network (same results to float "
        "noise; a group keeps no per-epoch checkpoint and restarts from epoch 1 if stopped)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="train seeds in N worker processes, torch threads divided between them",
    )
    parser.add_argument(
        "--compile",
        choices=COMPILE_MODES,
        default=None,
        metavar="MODE",
        help="train with torch.compile in this mode: default, reduce-overhead or "
        "max-autotune (these two capture the step as CUDA graphs on a GPU), "
        "max-autotune-no-cudagraphs",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")


def format_aggregate(name: str, row: dict[str, Any]) -> str:
    """Render :func:`~tinyconv.study.aggregate` output as a few readable lines.

    Args:
        name: The recipe's name.
        row: Output of :func:`~tinyconv.study.aggregate`.

    Returns:
        Four lines: seeds and params, final-epoch accuracy, best epoch, train accuracy and time.
    """
    images = "" if row["train_samples"] is None else f" on {row['train_samples']:,} images"
    hits = (
        ""
        if row["target"] is None
        else f", {row['hit_rate']:.0%} of seeds >= {100 * row['target']:.1f} %"
    )
    return (
        f"{name}: {row['seeds']} seed(s), {row['params']:,} params, "
        f"{row['epochs']} epochs{images}\n"
        f"  final-epoch test accuracy: {100 * row['final_mean']:.2f} % "
        f"± {100 * row['final_std']:.2f} (min {100 * row['final_min']:.2f} %{hits})\n"
        f"  best epoch (for information only): {100 * row['best_mean']:.2f} % mean\n"
        f"  final train accuracy {100 * row['train_final_mean']:.2f} %, "
        f"{row['wall_mean']:.0f} s per run on {', '.join(row['devices'])}"
    )


def run_recipe(recipe: Recipe, args: argparse.Namespace) -> int:
    """Run a study of ``recipe`` with the options of :func:`add_study_arguments`.

    Args:
        recipe: The recipe.
        args: Parsed options.

    Returns:
        The exit status, 0.

    Raises:
        SystemExit: For option values out of range (argparse style).
    """
    if (args.epochs is not None and args.epochs < 1) or args.seeds < 1:
        raise SystemExit("error: --epochs and --seeds must be >= 1")
    stack, workers = getattr(args, "stack", 1), getattr(args, "workers", 1)
    if stack < 1 or workers < 1 or (stack > 1 and workers > 1):
        raise SystemExit("error: --stack and --workers must be >= 1, and not both above 1")
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.epochs is not None and args.epochs != recipe.train.epochs:
        recipe = dataclasses.replace(
            recipe, train=dataclasses.replace(recipe.train, epochs=args.epochs)
        )
    compile_mode = getattr(args, "compile", None)
    if compile_mode is not None:  # how the seeds run, not what they compute: same study
        recipe = dataclasses.replace(
            recipe, train=dataclasses.replace(recipe.train, compile=True, compile_mode=compile_mode)
        )
    model = recipe.build_model(seed=args.first_seed)
    print(f"{recipe.name}: {recipe.description}")
    print(summary(model))
    print(f"Budget: {recipe.max_params:,} parameters, met.\n", flush=True)
    train_set = load_dataset(recipe.dataset, args.data_dir, train=True)  # type: ignore[arg-type]
    test_set = load_dataset(recipe.dataset, args.data_dir, train=False)  # type: ignore[arg-type]
    if args.train_subset is not None:
        train_set = train_set.subset(range(args.train_subset))
        # Runs on a subset are kept apart from the full-data results.
        recipe = dataclasses.replace(recipe, name=f"{recipe.name}_train{args.train_subset}")

    def report(result: dict[str, Any]) -> None:
        print(
            f"seed {result['seed']}: final test {100 * result['final_test_acc']:.2f} %, "
            f"best {100 * result['best_test_acc']:.2f} % (epoch {result['best_epoch']}), "
            f"{result['wall_seconds']:.0f} s on {result['device_name']}",
            flush=True,
        )

    data = run_study(
        recipe,
        range(args.first_seed, args.first_seed + args.seeds),
        train_set,
        test_set,
        out_dir=args.out,
        device=args.device,
        progress=False if args.quiet else None,
        on_event=lambda line: print(line, flush=True),
        on_seed=report,
        stack=stack,
        workers=workers,
    )
    if data["seeds"]:
        print(format_aggregate(recipe.name, aggregate(data)))
    else:
        print(f"{recipe.name}: no finished seed yet (the others are being trained elsewhere)")
    return 0


def main(recipe: Recipe, argv: Sequence[str] | None = None) -> int:
    """Run an example recipe from the command line.

    Args:
        recipe: The recipe to run.
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit status: 0 on success, 2 after a known error.
    """
    parser = argparse.ArgumentParser(
        prog=f"{recipe.name}.py", description=recipe.description or recipe.name
    )
    add_study_arguments(parser)
    args = parser.parse_args(argv)
    return run_guarded(lambda: run_recipe(recipe, args))
