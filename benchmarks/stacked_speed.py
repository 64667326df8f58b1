"""Many seeds at once: one V5 seed (``fit``) against K stacked seeds (``fit_stacked``), one run.

Part 1, training throughput. Each round trains, for one pass over ``--images`` MNIST
training images with V5's settings (dropout, rotation, SGD, StepLR):

(a) single: ``fit`` on one model and one loader;
(b) stacked: ``fit_stacked`` on K models, each with its own loader (own shuffle and
    rotation), as one grouped network.

The two alternate round by round so both see the same machine load. Printed: images/s per
seed of each (median over rounds, every run listed), the per-seed ratio stacked / single,
and the wall time of K stacked seeds relative to one seed (issue #13's GPU goal: <= 1.5x
for K = 5).

Part 2 (``--study``), a whole short study: ``run_study`` of K seeds for ``--epochs`` epochs
on the same images, sequential, with ``stack=K`` and with ``workers=N``; wall time of each,
the speed-up over sequential, and the largest difference in any seed's final test accuracy.

Run: python benchmarks/stacked_speed.py --data-dir ../shared/data --stack 5 --study --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from tinyconv.data import TensorLoader, resolve_data_root
from tinyconv.data.mnist import load_mnist
from tinyconv.recipes import RECIPES
from tinyconv.study import run_study
from tinyconv.train import fit, fit_stacked, resolve_device

RECIPE = RECIPES["mnist_v5"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--stack", type=int, default=5, help="seeds trained together (K)")
    parser.add_argument("--images", type=int, default=3840, help="training images per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--study", action="store_true", help="also time run_study three ways")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of the --study runs")
    parser.add_argument("--workers", type=int, default=2, help="processes of the --study run")
    parser.add_argument("--test-images", type=int, default=2000, help="test images (--study)")
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="save figures")
    args = parser.parse_args(argv)
    for name in ("stack", "images", "rounds", "epochs", "workers", "test_images"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def time_single(train: Any, device: torch.device, batch_size: int) -> float:
    """Seconds for one pass of ``fit`` over ``train`` (seed 0)."""
    config = replace(RECIPE.train, epochs=1, seed=0, device=str(device), progress=False)
    loader = TensorLoader(
        train, batch_size, shuffle=True, seed=0, device=device, augment=RECIPE.augmentation()
    )
    model = RECIPE.build_model(seed=0)
    _synchronize(device)
    started = time.perf_counter()
    fit(model, loader, config)
    _synchronize(device)
    return time.perf_counter() - started


def time_stacked(train: Any, device: torch.device, batch_size: int, count: int) -> float:
    """Seconds for one pass of ``fit_stacked`` over ``train`` with ``count`` seeds."""
    seeds = list(range(count))
    config = replace(RECIPE.train, epochs=1, seed=0, device=str(device), progress=False)
    loaders = [
        TensorLoader(
            train, batch_size, shuffle=True, seed=s, device=device, augment=RECIPE.augmentation()
        )
        for s in seeds
    ]
    models = [RECIPE.build_model(seed=s) for s in seeds]
    _synchronize(device)
    started = time.perf_counter()
    fit_stacked(models, loaders, config, seeds=seeds)
    _synchronize(device)
    return time.perf_counter() - started


def time_studies(args: argparse.Namespace, train: Any, test: Any) -> dict[str, Any]:
    """Wall time of a K-seed study sequential, stacked and in worker processes."""
    recipe = replace(RECIPE, train=replace(RECIPE.train, epochs=args.epochs))
    modes = {"sequential": {}, f"stack={args.stack}": {"stack": args.stack}}
    modes[f"workers={args.workers}"] = {"workers": args.workers}
    rows, finals = {}, {}
    for label, options in modes.items():
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            data = run_study(
                recipe, range(args.stack), train, test, out_dir=out, device=args.device,
                progress=False, **options,
            )  # fmt: skip
            rows[label] = time.perf_counter() - started
        finals[label] = [data["seeds"][str(s)]["final_test_acc"] for s in range(args.stack)]
        print(f"study {label}: {rows[label]:.1f} s", file=sys.stderr)
    base = finals["sequential"]
    return {
        "seconds": rows,
        "speedup_over_sequential": {k: rows["sequential"] / v for k, v in rows.items()},
        "max_final_acc_difference": {
            k: max(abs(a - b) for a, b in zip(v, base, strict=True)) for k, v in finals.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    train_all = load_mnist(resolve_data_root(args.data_dir))
    train = train_all.subset(range(min(args.images, len(train_all))))
    batch_size, count = RECIPE.train.batch_size, args.stack
    warmup = train.subset(range(min(4 * batch_size, len(train))))
    time_single(warmup, device, batch_size)  # first-call allocations, kernel selection
    time_stacked(warmup, device, batch_size, count)
    load_before = [round(v, 2) for v in os.getloadavg()]
    single, stacked = [], []
    for round_index in range(1, args.rounds + 1):
        single.append(len(train) / time_single(train, device, batch_size))
        stacked.append(len(train) / time_stacked(train, device, batch_size, count))
        print(
            f"round {round_index}: single {single[-1]:,.0f} img/s, stacked x{count} "
            f"{stacked[-1]:,.0f} img/s per seed",
            file=sys.stderr,
        )
    load_after = [round(v, 2) for v in os.getloadavg()]
    one, per_seed = statistics.median(single), statistics.median(stacked)
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(
        f"V5 ({RECIPE.name}), batch {batch_size}, {len(train):,} images per run, device "
        f"{device} ({device_name}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s); load average before {load_before}, "
        f"after {load_after}"
    )
    print(f"single seed (fit):             {one:>9,.0f} img/s   runs {single}")
    print(f"{count} stacked seeds, per seed:   {per_seed:>9,.0f} img/s   runs {stacked}")
    print(f"per-seed ratio stacked / single: {per_seed / one:.2f}x")
    print(f"wall of {count} stacked seeds / wall of 1 seed: {one / per_seed:.2f}x")
    report: dict[str, Any] = {
        "device": str(device),
        "device_name": device_name,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "stack": count,
        "images_per_run": len(train),
        "single_images_per_sec": single,
        "stacked_images_per_sec_per_seed": stacked,
        "per_seed_ratio": per_seed / one,
        "stacked_wall_over_one_seed": one / per_seed,
        "load_average_before": load_before,
        "load_average_after": load_after,
    }
    if args.study:
        test_all = load_mnist(resolve_data_root(args.data_dir), train=False)
        test = test_all.subset(range(min(args.test_images, len(test_all))))
        report["study"] = time_studies(args, train, test)
        for label, seconds in report["study"]["seconds"].items():
            speedup = report["study"]["speedup_over_sequential"][label]
            diff = report["study"]["max_final_acc_difference"][label]
            print(
                f"study of {count} seeds x {args.epochs} epoch(s), {label}: {seconds:.1f} s "
                f"({speedup:.2f}x sequential; largest final-accuracy difference {diff:.2e})"
            )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        print(f"saved {args.json}")
    return 0


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    sys.exit(main())
