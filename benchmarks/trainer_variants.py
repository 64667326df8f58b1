"""What changes tinyconv's training speed: one setting at a time against a baseline.

Each variant trains V5 with ``TensorLoader`` + ``fit`` (as ``train_speed.py`` does) and
changes one thing: ``channels_last``, ``torch.compile``, batch size 64 or 256,
``torch.set_num_threads(1)`` or no rotation. Two loader-only rows (no training) show
what the data side alone can deliver. Variants run interleaved round by round, so a
busy machine slows them alike; the median of the rounds is reported.

Run: python benchmarks/trainer_variants.py --data-dir ../shared/data --rounds 2
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset

from tinyconv.data import ImageDataset, resolve_data_root
from tinyconv.data.mnist import load_mnist
from tinyconv.train import resolve_device

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipelines import (
    Measurement,
    StopwatchLoader,
    conventional_dataset,
    run_tinyconv,
    tinyconv_loader,
)

Runner = Callable[[int], Measurement]
"""Trains (or loads) about ``images`` timed images and returns the measurement."""


def with_threads(threads: int, run: Runner) -> Runner:
    """Run ``run`` under ``torch.set_num_threads(threads)``, then restore the old count."""

    def wrapped(images: int) -> Measurement:
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return run(images)
        finally:
            torch.set_num_threads(previous)

    return wrapped


def drain(stopwatch: StopwatchLoader, label: str) -> Measurement:
    """Iterate a loader without training, so only the data side is timed."""
    for _ in stopwatch:
        pass
    return stopwatch.measurement(label)


def variants(
    data_root: Path, train_set: ImageDataset, warmup: int, device: torch.device
) -> dict[str, Runner]:
    """Every variant, by name, as a function of the timed image count."""

    def tinyconv(batch_size: int = 128, **changes: object) -> Runner:
        def run(images: int) -> Measurement:
            return run_tinyconv(
                train_set,
                batch_size=batch_size,
                warmup_batches=warmup,
                timed_batches=math.ceil(images / batch_size),
                device=device,
                **changes,
            )

        return run

    def tensor_loader_only(images: int) -> Measurement:
        stopwatch = tinyconv_loader(
            train_set,
            batch_size=128,
            warmup_batches=warmup,
            timed_batches=math.ceil(images / 128),
            device=device,
        )
        return drain(stopwatch, "loader only")

    conventional = conventional_dataset(data_root)

    def data_loader_only(images: int) -> Measurement:
        batches = math.ceil(images / 128)
        subset = Subset(conventional, range((warmup + batches) * 128))
        loader = DataLoader(subset, batch_size=128, shuffle=True, num_workers=0)
        return drain(StopwatchLoader(loader, 128, warmup, batches), "loader only")

    return {
        "baseline": tinyconv(),
        "channels-last": tinyconv(channels_last=True),
        "compile": tinyconv(compile=True),
        "captured": tinyconv(compile=True, compile_mode="reduce-overhead"),
        "batch64": tinyconv(batch_size=64),
        "batch256": tinyconv(batch_size=256),
        "threads1": with_threads(1, tinyconv()),
        "threads2": with_threads(2, tinyconv()),
        "no-rotation": tinyconv(augment=False),
        "tensorloader-only": tensor_loader_only,
        "dataloader-only": data_loader_only,
    }


VARIANTS: dict[str, str] = {
    "baseline": "V5 recipe, batch 128, torch's default thread count",
    "channels-last": "TrainConfig(channels_last=True)",
    "compile": "TrainConfig(compile=True) (compile time is in the warm-up)",
    "captured": "TrainConfig(compile=True, compile_mode='reduce-overhead'): on CUDA the "
    "step's forward and backward are replayed as CUDA graphs",
    "batch64": "batch size 64",
    "batch256": "batch size 256",
    "threads1": "torch.set_num_threads(1)",
    "threads2": "torch.set_num_threads(2)",
    "no-rotation": "TensorLoader without RandomRotation",
    "tensorloader-only": "TensorLoader with rotation, iterated without training",
    "dataloader-only": "DataLoader(num_workers=0) + PIL transforms on the CPU, no training",
}
"""Variant names (for ``--only``) and what each changes."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="variants: " + "; ".join(f"{k}: {v}" for k, v in VARIANTS.items()),
    )
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/")
    parser.add_argument("--images", type=int, default=3840, help="timed images per run")
    parser.add_argument("--warmup-batches", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(VARIANTS),
        default=list(VARIANTS),
        help="variants to run (the first one is the reference of the last column)",
    )
    args = parser.parse_args(argv)
    if args.images < 1 or args.rounds < 1 or args.warmup_batches < 0:
        parser.error("need --images >= 1, --rounds >= 1 and --warmup-batches >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_root = resolve_data_root(args.data_dir)
    device = resolve_device(args.device)
    table = variants(data_root, load_mnist(data_root), args.warmup_batches, device)
    chosen = list(dict.fromkeys(args.only))
    print(
        f"device {device}, torch {torch.__version__}, default threads {torch.get_num_threads()}, "
        f"load average before {load_average()}",
        flush=True,
    )
    speeds: dict[str, list[float]] = {name: [] for name in chosen}
    for round_index in range(1, args.rounds + 1):
        for name in chosen:
            started = time.perf_counter()
            try:
                result = table[name](args.images)
            except Exception as error:  # one broken variant (say, no compiler) spoils no other
                print(f"round {round_index}: {name}: failed: {error!r}", file=sys.stderr)
                continue
            speeds[name].append(result.images_per_sec)
            print(
                f"round {round_index}: {name}: {result.images_per_sec:,.0f} img/s "
                f"(data {result.data_share:.0%}; run took {time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    print(f"load average after {load_average()}")
    chosen = [name for name in chosen if speeds[name]]
    if not chosen:
        print("every variant failed")
        return 1
    reference = statistics.median(speeds[chosen[0]])
    print(f"\n{'variant':<20}{'img/s':>8}  {'runs':<22}{'vs ' + chosen[0]:>16}")
    for name in chosen:
        median = statistics.median(speeds[name])
        runs = " ".join(f"{speed:,.0f}" for speed in speeds[name])
        print(f"{name:<20}{median:>8,.0f}  {runs:<22}{median / reference - 1:>+16.0%}")
    return 0


def load_average() -> tuple[float, ...]:
    return tuple(round(value, 2) for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
