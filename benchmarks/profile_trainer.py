"""Where the time goes in tinyconv's trainer: torch.profiler over a few dozen V5 steps.

Runs ``fit`` on ``TensorLoader`` batches exactly as the speed benchmark does, profiles
``--steps`` training steps after ``--warmup-batches`` untimed ones, and prints

* a phase breakdown of the profiled wall time: data (``next(loader)``: gather, rotation,
  normalisation), backward (autograd engine), optimizer (``SGD.step`` / ``zero_grad``) and
  the rest of the step (forward, loss, ``loss.item()``, accuracy bookkeeping);
* the top operators by self CPU time.

Run: python benchmarks/profile_trainer.py --data-dir ../shared/data --steps 30
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch.autograd.profiler_util import FunctionEvent
from torch.profiler import ProfilerActivity, profile, schedule

from tinyconv.data.mnist import load_mnist
from tinyconv.train import fit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipelines import NEXT_BATCH_EVENT, build_model, tinyconv_config, tinyconv_loader

STEP_PREFIX = "ProfilerStep"


def phase_of(name: str) -> str:
    """Name the training phase a top-level profiler event belongs to."""
    if name == NEXT_BATCH_EVENT:
        return "data (next batch: gather, rotate, normalise)"
    if name.startswith("autograd::engine::evaluate_function"):
        return "backward"
    if name.startswith("Optimizer."):
        return "optimizer (SGD step, zero_grad)"
    return "forward, loss, item(), accuracy"


def phase_breakdown(events: list[FunctionEvent]) -> tuple[dict[str, float], float]:
    """Sum the inclusive CPU time of each step's direct children by phase.

    Returns:
        Microseconds per phase and the total microseconds of all profiled steps.
    """
    phases: dict[str, float] = defaultdict(float)
    total = 0.0
    for event in events:
        if event.name.startswith(STEP_PREFIX):
            total += event.cpu_time_total
            continue
        parent = event.cpu_parent
        if parent is not None and parent.name.startswith(STEP_PREFIX):
            phases[phase_of(event.name)] += event.cpu_time_total
    phases["(between ops: Python, loop overhead)"] = total - sum(phases.values())
    return dict(phases), total


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/")
    parser.add_argument("--steps", type=int, default=30, help="profiled training steps")
    parser.add_argument("--warmup-batches", type=int, default=5, help="unprofiled steps first")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--top", type=int, default=15, help="operators to list")
    parser.add_argument(
        "--dropout-masks", default="torch", choices=("torch", "hash"), help="TrainConfig field"
    )
    args = parser.parse_args(argv)
    if args.steps < 1 or args.warmup_batches < 2:
        parser.error("need --steps >= 1 and --warmup-batches >= 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    train_set = load_mnist(args.data_dir)
    plan = schedule(wait=args.warmup_batches - 1, warmup=1, active=args.steps, repeat=1)
    with profile(activities=[ProfilerActivity.CPU], schedule=plan) as profiler:
        stopwatch = tinyconv_loader(
            train_set,
            batch_size=args.batch_size,
            warmup_batches=args.warmup_batches,
            timed_batches=args.steps,
            device=device,
            on_batch=profiler.step,
        )
        config = tinyconv_config(args.batch_size, device, dropout_masks=args.dropout_masks)
        fit(build_model(device), stopwatch, config)
    timing = stopwatch.measurement("tinyconv")
    phases, total = phase_breakdown(list(profiler.events()))
    print(
        f"{args.steps} profiled steps of batch {args.batch_size} on the CPU, "
        f"torch.get_num_threads() = {torch.get_num_threads()}: "
        f"{timing.images_per_sec:,.0f} img/s under the profiler"
    )
    print(f"\n{'phase':<46}{'ms/step':>9}{'share':>8}")
    for phase, micros in sorted(phases.items(), key=lambda item: -item[1]):
        print(f"{phase:<46}{micros / 1e3 / args.steps:>9.2f}{micros / total:>8.0%}")
    print()
    table = profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.top)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
