"""Search throughput: one worker with all threads against N workers sharing them, one run.

``tinyconv search --workers N`` divides the torch threads between N worker processes.
Small models use threads poorly, so several 1-thread trials at once should finish more
trials per hour than one trial with every thread. This benchmark runs the same search
command both ways, alternating round by round, on a space whose every trial is the same
recipe (``--recipe``, default the MNIST frontier winner ``results/search/mnist4k_best.json``),
so that trials per hour measure throughput, not which architectures the sampler drew.

Printed: each run's wall time and trials per hour, the median per setting, and the
ratio N workers / 1 worker.

Run: python benchmarks/search_workers.py --data-dir ../shared/data --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tinyconv.workers import split_threads

REPO = Path(__file__).resolve().parents[1]
RECIPE_VARIABLE = "TINYCONV_BENCH_RECIPE"


def fixed_space(trial: Any) -> Any:
    """A search space of one point: the recipe named by ``$TINYCONV_BENCH_RECIPE``."""
    from tinyconv.recipe import Recipe

    trial.suggest_categorical("fixed", [True])  # Optuna wants at least one parameter
    return Recipe.from_dict(json.loads(Path(os.environ[RECIPE_VARIABLE]).read_text()))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="dataset root (default $TINYCONV_DATA)")
    parser.add_argument(
        "--recipe", type=Path, default=REPO / "results" / "search" / "mnist4k_best.json"
    )
    parser.add_argument("--trials", type=int, default=6, help="trials per search")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per trial")
    parser.add_argument("--train-subset", type=int, default=10_000, help="images per epoch")
    parser.add_argument("--workers", type=int, default=2, help="N of the parallel setting")
    parser.add_argument("--threads", type=int, default=None, help="threads (default: CPUs)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (median)")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="save figures")
    return parser.parse_args(argv)


def run_search(args: argparse.Namespace, workers: int, threads: int, out: Path) -> float:
    """Run one search command; return its wall time in seconds."""
    command = [
        sys.executable, "-m", "tinyconv", "search", f"{Path(__file__).resolve()}:fixed_space",
        "--trials", str(args.trials), "--epochs", str(args.epochs),
        "--train-subset", str(args.train_subset), "--pruner", "none",
        "--workers", str(workers), "--threads", str(threads), "--out", str(out),
    ]  # fmt: skip
    if args.data_dir is not None:
        command += ["--data-dir", args.data_dir]
    env = dict(os.environ, **{RECIPE_VARIABLE: str(args.recipe.resolve())})
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    threads = split_threads(1, args.threads)  # all of them: what the search shares out
    settings = {"1 worker": 1, f"{args.workers} workers": args.workers}
    walls: dict[str, list[float]] = {name: [] for name in settings}
    print(
        f"{args.trials} trials of {args.recipe.name}, {args.epochs} epoch(s) on "
        f"{args.train_subset:,} images each, {threads} threads to share; "
        f"load average before: {[round(x, 2) for x in os.getloadavg()]}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as scratch:
        for round_index in range(args.rounds):
            for name, workers in settings.items():
                out = Path(scratch) / f"{workers}_{round_index}"
                wall = run_search(args, workers, threads, out)
                walls[name].append(wall)
                print(f"  {name}: {wall:.1f} s, {3600 * args.trials / wall:,.0f} trials/hour")
    medians = {name: statistics.median(values) for name, values in walls.items()}
    for name, wall in medians.items():
        print(f"{name:>12}: median {wall:.1f} s = {3600 * args.trials / wall:,.0f} trials/hour")
    ratio = medians["1 worker"] / medians[f"{args.workers} workers"]
    print(f"trials per hour, {args.workers} workers / 1 worker: {ratio:.2f}x")
    print(f"load average after: {[round(x, 2) for x in os.getloadavg()]}")
    if args.json is not None:
        figures = {
            "args": {k: str(v) for k, v in vars(args).items()},
            "threads": threads,
            "walls": walls,
            "ratio": ratio,
        }
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
