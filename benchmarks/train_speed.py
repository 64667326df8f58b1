"""Training speed: a conventional MNIST pipeline against tinyconv's, same model, same run.

Trains the V5 model (examples/mnist_v5.py, < 8k parameters) two ways, interleaved
round by round so both see the same machine load:

(a) conventional: torchvision MNIST + per-sample PIL RandomRotation/ToTensor/Normalize,
    a DataLoader (batch 128, shuffle, num_workers 0 and 2) and a plain SGD loop;
(b) tinyconv: TensorLoader with RandomRotation(10, fill=1/255) on the device + fit;
    ``--dropout-masks torch hash`` adds a row trained with TrainConfig(dropout_masks="hash").

Prints images/s per pipeline (median over rounds, every run listed), the share of time
spent waiting for data, training FLOPs per image (FlopCounterMode over one forward +
backward step), achieved GFLOP/s and the tinyconv / conventional ratio against the
faster conventional setting.

Run: python benchmarks/train_speed.py --data-dir ../shared/data --json speed.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

import torch

from tinyconv.data import DatasetNotFoundError, resolve_data_root
from tinyconv.data.errors import CorruptDatasetError
from tinyconv.data.mnist import load_mnist
from tinyconv.parameters import count_parameters
from tinyconv.train import resolve_device

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flops import FlopCount, count_training_flops
from pipelines import (
    RECIPE,
    Measurement,
    build_model,
    conventional_dataset,
    run_conventional,
    run_tinyconv,
)

IMAGE_SHAPE = (1, 28, 28)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", default=None, help="folder holding MNIST/raw/ (default: $TINYCONV_DATA)"
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument(
        "--images", type=int, default=10240, help="timed images per run (rounded up to batches)"
    )
    parser.add_argument("--warmup-batches", type=int, default=5, help="untimed batches per run")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[0, 2], help="DataLoader num_workers to try"
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; the median run is reported"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)"
    )
    parser.add_argument(
        "--dropout-masks",
        nargs="+",
        default=["torch"],
        choices=("torch", "hash"),
        help="tinyconv rows: one per TrainConfig.dropout_masks value (default: torch)",
    )
    parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="save figures")
    args = parser.parse_args(argv)
    for name in ("images", "batch_size", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup_batches < 0 or any(w < 0 for w in args.workers):
        parser.error("--warmup-batches and --workers must be >= 0")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    return args


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else []


def summarise(runs: list[Measurement], flops: FlopCount) -> dict[str, Any]:
    speeds = [run.images_per_sec for run in runs]
    median = statistics.median(speeds)
    return {
        "pipeline": runs[0].pipeline,
        "images_per_sec": median,
        "runs_images_per_sec": speeds,
        "data_share": statistics.median(run.data_share for run in runs),
        "gflops_per_sec": median * flops.training / 1e9,
        "images_per_run": runs[0].images,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    header = f"{'pipeline':<42}{'img/s':>9}  {'runs (img/s)':<22}{'data wait':>10}{'GFLOP/s':>9}"
    print(header)
    print("-" * len(header))
    for row in rows:
        runs = " ".join(f"{speed:,.0f}" for speed in row["runs_images_per_sec"])
        print(
            f"{row['pipeline']:<42}{row['images_per_sec']:>9,.0f}  {runs:<22}"
            f"{row['data_share']:>9.0%}{row['gflops_per_sec']:>9.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    data_root = resolve_data_root(args.data_dir)
    try:
        device = resolve_device(args.device)
        train_set = load_mnist(data_root)
    except (RuntimeError, DatasetNotFoundError, CorruptDatasetError) as error:
        print(f"train_speed.py: {error}", file=sys.stderr)
        return 2
    conventional = conventional_dataset(data_root)
    timed_batches = math.ceil(args.images / args.batch_size)
    common = {
        "batch_size": args.batch_size,
        "warmup_batches": args.warmup_batches,
        "timed_batches": timed_batches,
        "device": device,
    }
    flops = count_training_flops(lambda: build_model(torch.device("cpu")), 128, IMAGE_SHAPE)
    params = count_parameters(build_model(torch.device("cpu")))
    load_before = load_average()

    runs: dict[str, list[Measurement]] = {}
    for round_index in range(1, args.rounds + 1):
        measured = [run_conventional(conventional, workers=w, **common) for w in args.workers]
        for masks in args.dropout_masks:
            label = "tinyconv TensorLoader + fit" + ("" if masks == "torch" else ", hash masks")
            measured.append(run_tinyconv(train_set, label=label, dropout_masks=masks, **common))
        for run in measured:
            runs.setdefault(run.pipeline, []).append(run)
            print(
                f"round {round_index}/{args.rounds}: {run.pipeline}: "
                f"{run.images_per_sec:,.0f} img/s",
                file=sys.stderr,
            )
    load_after = load_average()

    rows = [summarise(pipeline_runs, flops) for pipeline_runs in runs.values()]
    tinyconv_count = len(args.dropout_masks)
    conventional_rows, tinyconv_rows = rows[:-tinyconv_count], rows[-tinyconv_count:]
    fastest = max(conventional_rows, key=lambda row: row["images_per_sec"])
    ratios = {row["pipeline"]: row["images_per_sec"] / fastest["images_per_sec"]
              for row in tinyconv_rows}  # fmt: skip
    ratio = ratios[tinyconv_rows[0]["pipeline"]]

    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    print(
        f"model {RECIPE.name}: {params:,} parameters; batch {args.batch_size}; "
        f"device {device} ({device_name}); torch {torch.__version__}, "
        f"torch.get_num_threads() = {torch.get_num_threads()}"
    )
    print(
        f"training FLOPs per image: {flops.training / 1e6:.2f} MFLOP (FlopCounterMode over one "
        f"forward + backward step; forward {flops.forward / 1e6:.2f} MFLOP = 2 x "
        f"{flops.macs:,} MACs; 3 x forward would be {flops.textbook_training / 1e6:.2f})"
    )
    print(
        f"each run: {timed_batches * args.batch_size:,} timed images after "
        f"{args.warmup_batches} warm-up batches; {args.rounds} interleaved round(s), median shown"
    )
    print(f"load average (1, 5, 15 min) before: {load_before}, after: {load_after}")
    print()
    print_table(rows)
    print()
    for pipeline, value in ratios.items():
        print(f"ratio {pipeline} / conventional ({fastest['pipeline']}, the faster): {value:.2f}x")
    if args.json is not None:
        report = {
            "model": RECIPE.name,
            "params": params,
            "batch_size": args.batch_size,
            "device": str(device),
            "device_name": device_name,
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "warmup_batches": args.warmup_batches,
            "rounds": args.rounds,
            "flops_per_image": {
                "training": flops.training,
                "forward": flops.forward,
                "forward_macs": flops.macs,
                "convention": "FlopCounterMode, one forward + backward step, 1 MAC = 2 FLOPs",
            },
            "load_average_before": load_before,
            "load_average_after": load_after,
            "pipelines": rows,
            "ratio": ratio,
            "ratios": ratios,
            "ratio_against": fastest["pipeline"],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
        print(f"saved {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
