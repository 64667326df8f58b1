"""What changes tinyconv's training speed: one setting at a time against a baseline.

Each variant trains V5 with ``TensorLoader`` + ``fit`` (as ``train_speed.py`` does) and
changes one thing: hash dropout masks, in-place ReLU, ``channels_last``,
``torch.compile`` (inductor, mode ``default`` or ``max-autotune-no-cudagraphs``), batch
size 64 or 256, ``torch.set_num_threads(1)`` or no rotation; a few rows combine two.
Two loader-only rows (no training) show what the data side alone can deliver. Variants
run interleaved round by round, so a busy machine slows them alike; the median of the
rounds is reported with its ratio to the first variant.

Run: python benchmarks/trainer_variants.py --data-dir ../shared/data --rounds 2
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
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


def inplace_relu(model: nn.Module) -> None:
    """Make every ``nn.ReLU`` of ``model`` work in place (autograd refuses where it may not)."""
    for module in model.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = True


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
        "hash-masks": tinyconv(dropout_masks="hash"),
        "inplace-relu": tinyconv(model_change=inplace_relu),
        "hash+inplace": tinyconv(dropout_masks="hash", model_change=inplace_relu),
        "channels-last": tinyconv(channels_last=True),
        "compile": tinyconv(compile=True),
        "compile-max-autotune": tinyconv(compile=True, compile_mode="max-autotune-no-cudagraphs"),
        "compile+hash": tinyconv(compile=True, dropout_masks="hash"),
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
    "hash-masks": "TrainConfig(dropout_masks='hash'): dropout masks from a counter-based hash",
    "inplace-relu": "every nn.ReLU with inplace=True",
    "hash+inplace": "hash-masks and inplace-relu together",
    "channels-last": "TrainConfig(channels_last=True)",
    "compile": "TrainConfig(compile=True) (inductor, mode 'default'; compile time is in the "
    "warm-up)",
    "compile-max-autotune": "TrainConfig(compile=True, compile_mode='max-autotune-no-cudagraphs')",
    "compile+hash": "TrainConfig(compile=True, dropout_masks='hash')",
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
    parser.add_argument("--json", type=Path, default=None, help="save every figure here")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads for every variant"
    )
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
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data_root = resolve_data_root(args.data_dir)
    device = resolve_device(args.device)
    table = variants(data_root, load_mnist(data_root), args.warmup_batches, device)
    chosen = list(dict.fromkeys(args.only))
    load_before = load_average()
    print(
        f"device {device}, torch {torch.__version__}, default threads {torch.get_num_threads()}, "
        f"load average before {load_before}",
        flush=True,
    )
    speeds: dict[str, list[float]] = {name: [] for name in chosen}
    cpu_speeds: dict[str, list[float]] = {name: [] for name in chosen}
    for round_index in range(1, args.rounds + 1):
        for name in chosen:
            started = time.perf_counter()
            try:
                result = table[name](args.images)
            except Exception as error:  # one broken variant (say, no compiler) spoils no other
                print(f"round {round_index}: {name}: failed: {error!r}", file=sys.stderr)
                continue
            speeds[name].append(result.images_per_sec)
            cpu_speeds[name].append(result.images_per_cpu_second)
            print(
                f"round {round_index}: {name}: {result.images_per_sec:,.0f} img/s, "
                f"{result.images_per_cpu_second:,.0f} img per CPU-s "
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
    cpu_reference = statistics.median(cpu_speeds[chosen[0]])
    print(
        f"\n{'variant':<22}{'img/s':>8}  {'runs':<24}{'ratio':>7}"
        f"{'img/CPU-s':>11}{'ratio':>7}   (ratios to {chosen[0]})"
    )
    rows = []
    for name in chosen:
        median = statistics.median(speeds[name])
        cpu_median = statistics.median(cpu_speeds[name])
        runs = " ".join(f"{speed:,.0f}" for speed in speeds[name])
        print(
            f"{name:<22}{median:>8,.0f}  {runs:<24}{median / reference:>6.2f}x"
            f"{cpu_median:>11,.0f}{cpu_median / cpu_reference:>6.2f}x"
        )
        rows.append({"variant": name, "images_per_sec": median, "runs": speeds[name],
                     "ratio": median / reference, "images_per_cpu_second": cpu_median,
                     "cpu_runs": cpu_speeds[name], "cpu_ratio": cpu_median / cpu_reference,
                     "what": VARIANTS[name]})  # fmt: skip
    if args.json is not None:
        report = {
            "device": str(device),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "images": args.images,
            "rounds": args.rounds,
            "load_before": load_before,
            "load_after": load_average(),
            "variants": rows,
        }
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


def load_average() -> tuple[float, ...]:
    return tuple(round(value, 2) for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
