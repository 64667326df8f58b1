"""``tinyconv search SPACE --trials N --out DIR``: a budgeted search on Optuna.

Runs (or continues, or joins) a study: every trial's model is checked against the
budget before any training; the rest train on a seeded validation split of the
training set. ``--workers N`` runs N worker processes here; the same command with the
same ``--storage URL`` and ``--study-name`` on other machines adds their workers to
the same study. ``tinyconv search-best DIR --out best.json`` then writes the winner
as a recipe for ``tinyconv study best.json --seeds 5``.
"""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs
from tinyconv.cli.device_budget_options import add_device_budget_arguments

if TYPE_CHECKING:
    import optuna

NAME = "search"
HELP = (
    "search a space of architectures and training settings under a parameter budget "
    "(Optuna; needs the [search] extra)"
)
RESUMABLE = True  # rerun after Ctrl-C: the study in its storage continues


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``tinyconv search``.

    Args:
        parser: The subcommand's parser.
    """
    parser.add_argument(
        "space",
        metavar="SPACE",
        help="a registered dataset's name (its ready space: mnist, fashion_mnist or yours), "
        "package.module:function or file.py:function",
    )
    parser.add_argument(
        "--trials", type=int, required=True, metavar="N",
        help="finished trials the study should reach, over all workers (pruned ones count)",
    )  # fmt: skip
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--storage", default=None, metavar="URL",
        help="default: DIR/search.journal; or journal:PATH, sqlite:///PATH, "
        "postgresql+psycopg://USER:PASSWORD@HOST/DB (many machines)",
    )  # fmt: skip
    parser.add_argument(
        "--study-name", default=None, metavar="NAME", help="default: the space's name"
    )
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="worker processes on this machine, CPU threads split between them (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--threads", type=int, default=None, metavar="T",
        help="torch threads to share out between the workers (default: all CPUs)",
    )  # fmt: skip
    parser.add_argument("--max-params", type=int, default=None, metavar="N", help="budget")
    add_device_budget_arguments(parser, "a trial over it on a Cortex-M4 is not trained")
    parser.add_argument("--epochs", type=int, default=None, metavar="E", help="epochs per trial")
    parser.add_argument(
        "--train-subset", type=int, default=None, metavar="N",
        help="train each trial on N images of the training part (quick searches)",
    )  # fmt: skip
    parser.add_argument(
        "--val-size", type=int, default=None, metavar="N",
        help="validation images carved from the training set (default: SearchSettings', "
        "5000)",
    )  # fmt: skip
    parser.add_argument(
        "--multi-objective", action="store_true",
        help="accuracy vs parameters (Pareto front); prunes on the budget only",
    )  # fmt: skip
    parser.add_argument(
        "--pruner", choices=("median", "hyperband", "none"), default=None,
        help="single-objective pruner (default: SearchSettings', median)",
    )  # fmt: skip
    parser.add_argument(
        "--sampler-seed", type=int, default=None, metavar="S", help="seed of the TPE sampler"
    )
    add_dataset_arguments(parser)
    parser.add_argument(
        "--device", default=None, help="training device (default: SearchSettings', cpu)"
    )
    parser.add_argument(
        "--time-limit", type=float, default=None, metavar="SECONDS",
        help="start no new trial after this many seconds (running trials finish; "
        "run the command again to continue)",
    )  # fmt: skip


def _report(study: optuna.Study) -> None:
    """Print the trial counts and the best trial (or the Pareto front)."""
    from optuna.trial import TrialState

    from tinyconv.search import pareto_front
    from tinyconv.search.shared_study import trial_counts

    counts = trial_counts(study)
    states = [f"{counts[state]} {state.name.lower()}" for state in TrialState if counts[state]]
    print(f"trials: {', '.join(states)}")
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return
    if len(study.directions) > 1:
        print("Pareto front (val accuracy, params):")
        for trial in pareto_front(study):
            print(f"  trial {trial.number}: {100 * trial.values[0]:.2f} %, {trial.values[1]:,.0f}")
    else:
        best = study.best_trial
        print(
            f"best: trial {best.number}, val {100 * best.values[0]:.2f} %, "
            f"{best.user_attrs.get('params', 0):,} params"
        )


def run(args: argparse.Namespace) -> int:
    """Run the search, then print the trial counts and the best trial(s).

    Args:
        args: Parsed arguments.

    Returns:
        0 on success (known errors print as one line).
    """
    import time

    from tinyconv._extras import require

    require("optuna", "search")
    from tinyconv.search import SearchSettings, run_search
    from tinyconv.search.preflight import check_search
    from tinyconv.search.storage import safe_url

    register_dataset_dirs(args)  # before the space is resolved; workers inherit it
    settings = SearchSettings(
        space=args.space,
        out=args.out,
        trials=args.trials,
        storage=args.storage,
        study_name=args.study_name,
        max_params=args.max_params,
        max_flash=args.max_flash,
        max_arena=args.max_arena,
        epochs=args.epochs,
        train_subset=args.train_subset,
        multi_objective=args.multi_objective,
        sampler_seed=args.sampler_seed,
        data_dir=args.data_dir,
        threads=args.threads,
        time_limit_s=args.time_limit,
        # options left out take SearchSettings' own defaults (not copied here)
        **{
            name: value
            for name, value in (
                ("val_size", args.val_size),
                ("pruner", args.pruner),
                ("device", args.device),
            )
            if value is not None
        },
    )
    check_search(settings)  # before any storage exists: a refused search leaves nothing
    where = safe_url(args.storage) if args.storage else f"{args.out}/search.journal"
    print(f"study {settings.name!r} in {where}: {settings.trials} trials", flush=True)
    started = time.perf_counter()
    study = run_search(settings, workers=args.workers)
    print(f"wall time {time.perf_counter() - started:.0f} s")
    _report(study)
    source = safe_url(args.storage) if args.storage else args.out
    dirs = "".join(f" --dataset-dir {shlex.quote(path)}" for path in args.dataset_dir)
    print(
        f"next: tinyconv search-best {source} --study-name {settings.name} "
        f"--out {settings.name}_best.json{dirs} && "
        f"tinyconv study {settings.name}_best.json --seeds 5{dirs}"
    )
    return 0
