"""Quantization-aware int8 for committed model files, with the float control beside it.

For each model file: ``tinyconv export MODEL --int8 --qat-epochs E --qat-lr LR`` (its
library call), which fine-tunes the BatchNorm-folded model with int8 rounding in the loop
on the training images less a 5,000-image validation split and writes the ONNX files and
the export report (test accuracy of the original float model, of the int8 file, and the
parity checks) into ``--out/<name>/``; then, with ``--control``, the same fine-tuning with
the rounding switched off, whose float test accuracy tells what the extra epochs give
without int8 (``--out/<name>.control.json``). A finished output is skipped, so the
script can be run again to continue.

Usage::

    python examples/qat_int8.py results/compress/fashion_v5_seed4_max4000_e5/scratch_e20.model.pt \
        --epochs 2 --lr 0.0001 --control --threads 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from pathlib import Path

import torch

import tinyconv as tc
from tinyconv.atomic import atomic_write
from tinyconv.data import Normalization, TensorLoader, load_dataset, model_dataset
from tinyconv.export import export_model, fold_batchnorm
from tinyconv.export.qat import fine_tune_quantization_aware_on_dataset
from tinyconv.train import evaluate


def result_name(model_file: Path) -> str:
    """The output's name: the path under ``results/<group>/``, joined with ``_``.

    ``results/compress/X/scratch_e20.model.pt`` -> ``X_scratch_e20``,
    ``results/compress/X/pruned/model.pt`` -> ``X_pruned``,
    ``results/fashion/fashion_v5/seed0.model.pt`` -> ``fashion_v5_seed0``; a file
    elsewhere: its last two folders and its stem.
    """
    parts = list(model_file.parts[1:] if model_file.is_absolute() else model_file.parts)
    if "results" in parts:
        parts = parts[parts.index("results") + 2 :]
    stem = parts.pop().removesuffix(".pt").removesuffix(".model")
    return "_".join([*parts[-2:], *([] if stem == "model" else [stem])])


def float_control(
    model_file: Path, epochs: int, lr: float, root: str | None, command: str
) -> dict[str, object]:
    """The same fine-tuning without the rounding; float test accuracy before and after."""
    model = tc.load(model_file)
    dataset = model_dataset(model, None, label=str(model_file)).name
    folded, _ = fold_batchnorm(model)
    started = time.perf_counter()
    result = fine_tune_quantization_aware_on_dataset(
        model, folded, dataset, data_root=root, epochs=epochs, lr=lr, rounding=False
    )
    test = load_dataset(dataset, root, train=False)
    norm = Normalization.of_model(model) or test.normalization
    test = dataclasses.replace(test, mean=norm.mean, std=norm.std)
    loader = TensorLoader(test, 1000)
    return {
        "command": command,
        "model": str(model_file),
        "dataset": dataset,
        "test_acc_source": evaluate(folded, loader).accuracy,
        "test_acc_fine_tuned_float": evaluate(result.model.eval(), loader).accuracy,
        "fine_tuning": result.to_dict(),
        "wall_seconds": time.perf_counter() - started,
        "torch": torch.__version__,
        "cpu": platform.machine(),
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    """Export each model with quantization-aware int8 (and its float control)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="+", type=Path, metavar="MODEL")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--out", type=Path, default=Path("results/compress/qat"))
    parser.add_argument("--control", action="store_true", help="also the float control")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for model_file in args.models:
        name = result_name(model_file)
        command = (
            f"python examples/qat_int8.py {model_file} --epochs {args.epochs} --lr {args.lr}"
            f"{' --control' if args.control else ''} --threads {args.threads}"
        )
        folder = args.out / name
        if not (folder / f"{name}.export.json").is_file():
            report = export_model(
                model_file, folder, int8=True, qat_epochs=args.epochs, qat_lr=args.lr,
                data_root=args.data_dir, name=name,
            )  # fmt: skip
            accuracy = report.accuracy
            print(f"{name}: fp32 {accuracy['pytorch']:.4f} int8 (QAT) {accuracy['onnx_int8']:.4f}")
        control_file = args.out / f"{name}.control.json"
        if args.control and not control_file.is_file():
            control = float_control(model_file, args.epochs, args.lr, args.data_dir, command)
            text = json.dumps(control, indent=1) + "\n"
            atomic_write(control_file, lambda handle, text=text: handle.write(text.encode()))
            print(f"{name}: float control {control['test_acc_fine_tuned_float']:.4f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
