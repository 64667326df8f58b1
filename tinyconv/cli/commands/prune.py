"""``tinyconv prune MODEL --max-params N --out DIR``: structured pruning to a budget, fine-tuned.

Removes whole channels from a trained model file until it fits the budget (Torch-Pruning,
extra ``compress``), fine-tunes it with its recipe on the training images minus a
validation split, and writes ``DIR/model.pt`` and ``DIR/report.json`` (widths and
parameters before and after, validation accuracy before and after fine-tuning). Running
the same command again after an interruption continues the fine-tuning.
"""

from __future__ import annotations

import argparse

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs
from tinyconv.cli.thread_options import add_threads_argument, apply_thread_option

NAME = "prune"
HELP = (
    "prune a trained model file to at most N parameters (whole channels, Torch-Pruning), "
    "fine-tune it with its recipe, write the model file and a report"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``tinyconv prune``.

    Args:
        parser: The subcommand's parser.
    """
    parser.add_argument("model", metavar="MODEL", help="model file written by tinyconv.save")
    parser.add_argument(
        "--max-params", type=int, required=True, metavar="N", help="the parameter budget"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the outputs")
    parser.add_argument(
        "--max-pruning-ratio",
        type=float,
        default=1.0,
        metavar="R",
        help="the largest fraction of each layer's channels that may go (default 1.0: "
        "every layer keeps at least one channel, nothing more)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="E",
        help="fine-tuning epochs (default: the recipe's; 0 prunes only)",
    )
    parser.add_argument(
        "--recipe",
        default=None,
        metavar="NAME_OR_JSON",
        help="recipe whose training fine-tunes the model: a ready recipe, a recipe JSON or a "
        "study's results file (default: the one the model file records)",
    )
    parser.add_argument(
        "--val-size",
        type=int,
        default=None,
        metavar="N",
        help="validation images carved from the training set, never test (default 5,000, "
        "or a tenth of a smaller training set)",
    )
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the validation split")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fine-tuning")
    parser.add_argument(
        "--train-subset",
        type=int,
        default=None,
        metavar="N",
        help="fine-tune on the first N training images only (smoke runs)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    add_threads_argument(parser)
    add_dataset_arguments(parser, "dataset to fine-tune on, for a model file that records none")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")


def run(args: argparse.Namespace) -> int:
    """Prune, fine-tune, print the report and where it was saved.

    Args:
        args: Parsed arguments.

    Returns:
        0 on success (known errors propagate as TinyconvError and print as one line).
    """
    from tinyconv._extras import require

    require("torch_pruning", "compress")
    from tinyconv.compress import prune_model_file
    from tinyconv.compress.pruning_run import MODEL_FILE, REPORT_FILE

    register_dataset_dirs(args)
    apply_thread_option(args)
    report = prune_model_file(
        args.model,
        args.out,
        max_params=args.max_params,
        max_pruning_ratio=args.max_pruning_ratio,
        epochs=args.epochs,
        recipe=args.recipe,
        data_root=args.data_dir,
        dataset=args.dataset,
        val_size=args.val_size,
        split_seed=args.split_seed,
        seed=args.seed,
        train_subset=args.train_subset,
        device=args.device,
        progress=False if args.quiet else None,
    )
    print(report)
    print(f"Saved: {args.out}/{MODEL_FILE}, {args.out}/{REPORT_FILE}")
    return 0
