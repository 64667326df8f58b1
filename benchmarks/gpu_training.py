"""Training at the launch limit: eager against the captured step, one seed and stacked seeds.

Every row trains the same recipe (default ``mnist_v5``, its 15 epochs, all 60,000 training
images, scored on the test set after every epoch for the record) through
``tinyconv.train_recipe`` on one device, one row after another in one process:

- ``eager:1`` and ``captured:1``: one seed, the default loop and
  ``TrainConfig(capture=True)`` (the step recorded once as a CUDA graph);
- ``eager:5``, ``eager:20``: K seeds stacked as one network (a captured step trains one
  model: stacked seeds swap each seed's random state inside the step);
- ``workers:N`` (``--workers N``): N seeds in N processes sharing the device
  (``run_study(workers=N)``), each captured: many captured runs on one GPU.

For each row: wall time, training time (the epochs' training passes, without scoring),
images per second per seed, and each seed's final-epoch test accuracy; then the ratios the
GPU goals name (captured one-seed training time; K=5 and K=20 seeds, stacked or in
processes, against one seed) and the captured seeds' accuracy against the eager seeds'
spread. Rows are independent: one that
fails is recorded with its error and the others still run. Device, driver and versions go
into the JSON.

Run (GPU): python benchmarks/gpu_training.py --data-dir DATA --device cuda --json out.json
Smoke (CPU): python benchmarks/gpu_training.py --device cpu --epochs 1 --train-subset 512
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import torch

import tinyconv
from tinyconv.data import ImageDataset, load_dataset
from tinyconv.provenance import environment
from tinyconv.recipes import get_recipe
from tinyconv.study import run_study

ROWS = ("eager:1", "captured:1", "eager:5", "eager:20")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="dataset root ($TINYCONV_DATA)")
    parser.add_argument("--device", default="cuda", help="cuda (the goals) or cpu (smoke)")
    parser.add_argument("--recipe", default="mnist_v5")
    parser.add_argument("--epochs", type=int, default=None, help="instead of the recipe's")
    parser.add_argument("--train-subset", type=int, default=None, metavar="N")
    parser.add_argument(
        "--rows", nargs="+", default=list(ROWS), metavar="MODE:K",
        help=f"rows to run, MODE eager or captured, K seeds stacked (default {' '.join(ROWS)})",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, nargs="*", default=[], metavar="N",
                        help="also N captured seeds in N processes, per N given")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None, metavar="OUT")
    args = parser.parse_args(argv)
    for row in args.rows:
        mode, _, count = row.partition(":")
        if not ((mode == "eager" and count.isdigit()) or row == "captured:1"):
            parser.error(f"a row is eager:K (K stacked seeds) or captured:1, got {row!r}")
    return args


def device_facts(device: str) -> dict[str, Any]:
    """The device, its driver and the versions the figures belong to."""
    facts: dict[str, Any] = {
        "device": device,
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        **environment(("torch", "torchvision")),
        "torch_cuda": torch.version.cuda,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        facts["device_name"] = torch.cuda.get_device_name()
        query = ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv"]
        try:
            facts["nvidia_smi"] = subprocess.run(
                query, capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired) as error:
            facts["nvidia_smi"] = f"not run: {error}"
    return facts


def with_mode(recipe: tinyconv.Recipe, mode: str, device: str) -> tinyconv.Recipe:
    train = dataclasses.replace(recipe.train, capture=mode == "captured", device=device)
    return dataclasses.replace(recipe, train=train)


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def summarise(runs: list[Any], wall: float, images: int) -> dict[str, Any]:
    """One row's figures from its trained seeds."""
    history = runs[0].history.to_list()
    train_seconds = sum(images / record["images_per_sec"] for record in history)
    return {
        "seeds": len(runs),
        "wall_seconds": wall,
        "train_seconds": train_seconds,
        "images_per_sec_per_seed": images * len(history) / train_seconds,
        "final_test_acc": [run.history.final.eval_acc for run in runs],
    }


def train_row(
    recipe: tinyconv.Recipe, mode: str, stack: int, data: tuple[ImageDataset, ImageDataset],
    device: str,
) -> dict[str, Any]:  # fmt: skip
    """Train K stacked seeds (or one) in ``mode``; its figures."""
    synchronize(device)
    started = time.perf_counter()
    runs = tinyconv.train_recipe(
        with_mode(recipe, mode, device), list(range(stack)), *data, device=device,
        progress="lines",
    )  # fmt: skip
    synchronize(device)
    return summarise(runs, time.perf_counter() - started, len(data[0]))


def workers_row(
    recipe: tinyconv.Recipe, workers: int, data: tuple[ImageDataset, ImageDataset], device: str
) -> dict[str, Any]:
    """``workers`` captured seeds in as many processes sharing the device."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        results = run_study(
            with_mode(recipe, "captured", device), range(workers), *data, out_dir=folder,
            device=device, workers=workers,
        )  # fmt: skip
        wall = time.perf_counter() - started
    seeds = results["seeds"].values()
    return {
        "seeds": workers,
        "wall_seconds": wall,
        "final_test_acc": [seed["final_test_acc"] for seed in seeds],
    }


def goals(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ratios the issue's goals name, where both rows ran."""

    def seconds(name: str) -> float | None:
        return rows.get(name, {}).get("train_seconds")

    found: dict[str, Any] = {}
    one, eager_one = seconds("captured:1"), seconds("eager:1")
    if one is not None:
        found["captured_one_seed_train_seconds"] = one
        if eager_one is not None:
            found["eager_over_captured_one_seed"] = eager_one / one
    for name, row in rows.items():
        if name.startswith("workers:"):  # processes: wall time against one captured run's
            took, base = row.get("wall_seconds"), rows.get("captured:1", {}).get("wall_seconds")
        else:  # stacked: training time against one eager seed's
            took, base = row.get("train_seconds"), eager_one
        if name not in ("eager:1", "captured:1") and base and took is not None:
            found[f"{name}_over_one_seed"] = took / base
    eager = rows.get("eager:5", {}).get("final_test_acc")
    capture = next((row.get("final_test_acc") for name, row in rows.items()
                    if name.startswith("workers:") and len(row.get("final_test_acc", [])) > 1),
                   None)  # fmt: skip
    if eager and capture and len(eager) > 1:
        found["accuracy_over_seeds"] = {
            mode: {"seeds": len(accs), "mean": statistics.mean(accs), "std": statistics.stdev(accs)}
            for mode, accs in (("eager_stacked", eager), ("captured_workers", capture))
        }
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    recipe = get_recipe(args.recipe).with_epochs(args.epochs)
    train = load_dataset(recipe.dataset, args.data_dir, train=True)  # type: ignore[arg-type]
    test = load_dataset(recipe.dataset, args.data_dir, train=False)  # type: ignore[arg-type]
    if args.train_subset is not None:
        train = train.subset(range(args.train_subset))
    data = (train, test)
    given = sys.argv[1:] if argv is None else argv
    report: dict[str, Any] = {
        "command": " ".join(["python benchmarks/gpu_training.py", *given]),
        "recipe": recipe.name,
        "epochs": recipe.train.epochs,
        "train_images": len(train),
        "test_images": len(test),
        "environment": device_facts(args.device),
        "rows": {},
    }
    names = list(args.rows) + [f"workers:{n}" for n in args.workers]
    for name in names:
        mode, _, count = name.partition(":")
        print(f"=== {name}", flush=True)
        try:
            if mode == "workers":
                row = workers_row(recipe, int(count), data, args.device)
            else:
                row = train_row(recipe, mode, int(count), data, args.device)
        except Exception as error:  # a row that fails is a finding, not the end of the run
            row = {"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
        report["rows"][name] = row
        print(json.dumps({name: {k: v for k, v in row.items() if k != "trace"}}), flush=True)
        if args.json is not None:  # after every row: a killed run keeps what it measured
            report["goals"] = goals(report["rows"])
            args.json.write_text(json.dumps(report, indent=1) + "\n")
    report["goals"] = goals(report["rows"])
    print(json.dumps(report["goals"], indent=1))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    main()
