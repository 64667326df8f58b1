"""``tinyconv study RECIPE``: train a recipe's seeds and record final-epoch results.

RECIPE is a ready recipe's name (``tinyconv study mnist_v5 --seeds 5``) or a recipe JSON
file. The command prints the model's budget table, trains the requested seeds (skipping
those already finished in ``<out>/<name>.json``, continuing a seed that was interrupted),
prints a line per finished seed and the final-epoch summary over all finished seeds. The
work is the library's (:func:`~tinyconv.study.prepare_study`,
:func:`~tinyconv.study.run_study`, :func:`~tinyconv.study.aggregate`); the defaults shown by
``--help`` are those of :func:`~tinyconv.study.run_study`.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Sequence
from typing import Any

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs
from tinyconv.cli.thread_options import add_threads_argument, apply_thread_option

NAME = "study"
HELP = "train a recipe (name or JSON file) for several seeds; resumable"
RESUMABLE = True  # rerun after Ctrl-C: finished seeds are kept, a running seed continues


def _default(name: str) -> Any:
    from tinyconv.study import run_study

    return inspect.signature(run_study).parameters[name].default


def add_arguments(parser: argparse.ArgumentParser, *, recipe_argument: bool = True) -> None:
    """Add the recipe and the study options.

    Args:
        parser: The parser to extend.
        recipe_argument: Add the positional RECIPE (not for a script that holds its recipe).
    """
    from tinyconv.train.compiled import COMPILE_MODES

    if recipe_argument:
        parser.add_argument("recipe", help="ready recipe name (e.g. mnist_v5) or recipe JSON file")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="train this many epochs instead of the recipe's (StepLR's step scales with them)",
    )
    parser.add_argument("--seeds", type=int, default=1, help="run seeds first..first+N-1")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed")
    parser.add_argument(
        "--seeds-after", type=int, default=0, metavar="N",
        help="seeds later studies of the same job will train, counted in the time left "
        "(make reproduce passes them)",
    )  # fmt: skip
    parser.add_argument("--device", default=_default("device"), help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument(
        "--out",
        default=str(_default("out_dir")),
        help="folder for results, models, CSVs (keep committed results apart from new runs)",
    )
    parser.add_argument(
        "--train-subset",
        type=int,
        default=None,
        metavar="N",
        help="train on the first N images (smoke runs; saved as <name>_trainN.json)",
    )
    add_threads_argument(parser)
    parser.add_argument(
        "--stack",
        type=int,
        default=_default("stack"),
        metavar="K",
        help="train new seeds K at a time as one stacked network (same results to float "
        "noise; checkpointed every epoch like single seeds)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=_default("workers"),
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
    parser.add_argument(
        "--capture",
        action="store_true",
        help="record each seed's training step once as a CUDA graph and replay it (SGD "
        "recipes, --device cuda; no compile): the same study, launched from Python once "
        "instead of every step",
    )
    parser.add_argument(
        "--dropout-masks",
        choices=("torch", "hash"),
        default=None,
        help="draw dropout masks with the counter-based hash (every recipe's default: "
        "fast on the CPU) or torch's generator (what results before recipe format 2 drew); "
        "other masks than the recipe's are another study: <name>_<masks>",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    add_dataset_arguments(
        parser,
        "train the recipe on this registered dataset instead of its own: same blocks and "
        "training, the head sized to its classes, results under <recipe>_<dataset>",
    )


def format_aggregate(name: str, row: dict[str, Any]) -> str:
    """Render :func:`~tinyconv.study.aggregate` output as a few readable lines.

    Args:
        name: The recipe's name.
        row: Output of :func:`~tinyconv.study.aggregate`.

    Returns:
        Four lines: seeds, params, epochs and images; final-epoch accuracy; best epoch;
        train accuracy and time.
    """
    from tinyconv.train.progress import format_count

    images = "" if row["train_samples"] is None else f" on {row['train_samples']:,} images"
    hits = (
        ""
        if row["target"] is None
        else f", {row['hit_rate']:.0%} of seeds >= {100 * row['target']:.1f} %"
    )
    return (
        f"{name}: {row['seeds']} seed(s), {row['params']:,} params, "
        f"{format_count(row['epochs'], 'epoch')}{images}\n"
        f"  final-epoch test accuracy: {100 * row['final_mean']:.2f} % "
        f"± {100 * row['final_std']:.2f} (min {100 * row['final_min']:.2f} %{hits})\n"
        f"  best epoch (for information only): {100 * row['best_mean']:.2f} % mean\n"
        f"  final train accuracy {100 * row['train_final_mean']:.2f} %, "
        f"{row['wall_mean']:.0f} s per run on {', '.join(row['devices'])}"
    )


def run(args: argparse.Namespace, recipe: Any = None) -> int:
    """Run the study.

    Args:
        args: Parsed options.
        recipe: The recipe; ``None`` resolves ``args.recipe`` (name or JSON file).

    Returns:
        The exit status, 0.

    Raises:
        UsageError: For option values out of range.
    """
    from tinyconv.errors import UsageError
    from tinyconv.recipes import get_recipe, recipe_for_dataset
    from tinyconv.study import aggregate, prepare_study, run_study
    from tinyconv.summary import summary
    from tinyconv.train import resolve_device

    register_dataset_dirs(args)
    if recipe is None:
        recipe = get_recipe(args.recipe)
    if args.dataset is not None:
        recipe = recipe_for_dataset(recipe, args.dataset)
    for option in ("seeds", "stack", "workers"):  # --threads: apply_thread_option checks it
        value = getattr(args, option)
        if value is not None and value < 1:
            raise UsageError(f"--{option} must be at least 1, got {value}")
    if args.seeds_after < 0:
        raise UsageError(f"--seeds-after must be at least 0, got {args.seeds_after}")
    if args.stack > 1 and args.workers > 1:
        raise UsageError("--stack and --workers cannot both be above 1; choose one")
    device = resolve_device(args.device)  # an unusable device fails before any data is read
    if args.capture and (device.type != "cuda" or args.compile):
        raise UsageError(
            "--capture records the training step as a CUDA graph: it needs a CUDA device "
            f"(--device cuda; this run would train on {device.type}) and no --compile"
        )
    if args.capture and args.stack > 1:
        raise UsageError(
            "--capture records one model's step; stacked seeds swap each seed's random state "
            "inside it: use --workers N for N captured seeds at once, or leave out --capture"
        )
    if args.capture and (recipe.train.optimizer != "sgd" or recipe.distill is not None):
        raise UsageError(
            f"--capture records SGD steps without callbacks; {recipe.name} trains with "
            f"{recipe.train.optimizer}"
            + (" and a teacher" if recipe.distill else "")
            + ": leave out --capture"
        )
    apply_thread_option(args)
    prepared = prepare_study(
        recipe,
        data_dir=args.data_dir,
        epochs=args.epochs,
        train_subset=args.train_subset,
        compile_mode=args.compile,
        dropout_masks=args.dropout_masks,
        capture=args.capture,
    )
    recipe = prepared.recipe
    print(f"{recipe.name}: {recipe.description}")
    print(summary(recipe.build_model(seed=args.first_seed)))
    print(f"Budget: {recipe.max_params:,} parameters, met.\n", flush=True)

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
        prepared.train_set,
        prepared.test_set,
        out_dir=args.out,
        device=args.device,
        progress=False if args.quiet else None,
        on_event=lambda line: print(line, flush=True),
        on_seed=report,
        stack=args.stack,
        workers=args.workers,
        seeds_after=args.seeds_after,
    )
    if data["seeds"]:
        print(format_aggregate(recipe.name, aggregate(data)))
    else:
        print(f"{recipe.name}: no finished seed yet (the others are being trained elsewhere)")
    return 0


def main_for(recipe: Any, argv: Sequence[str] | None = None) -> int:
    """Run a study of ``recipe`` from a script (``python examples/mnist_v5.py --seeds 5``).

    Args:
        recipe: The recipe the script holds.
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit status: 0 on success, 2 after a known error.
    """
    from tinyconv.cli import run_guarded

    parser = argparse.ArgumentParser(
        prog=f"{recipe.name}.py",
        description=recipe.description or recipe.name,
        allow_abbrev=False,
    )
    add_arguments(parser, recipe_argument=False)
    args = parser.parse_args(argv)
    return run_guarded(lambda: run(args, recipe))
