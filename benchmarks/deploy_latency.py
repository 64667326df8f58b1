"""Batch-1 latency of onnxruntime int8 vs PyTorch eager, side by side in one run.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 python benchmarks/deploy_latency.py --model path/to/seed0.model.pt \
        --data-dir ../shared/data --threads 1

Without ``--model`` it builds V5 from ``examples/mnist_v5.py`` (seed 0) and gives its
BatchNorms running statistics from 1,000 training images: latency does not depend on
the weights' values. The model is folded, exported to ONNX, quantized to int8 (calibrated
on training images) and then the three runtimes (PyTorch eager on the unfolded model,
onnxruntime fp32, onnxruntime int8) are timed in interleaved rounds, each round a median
of ``--runs`` batch-1 calls per runtime, all on ``--threads`` threads. The figure is the
median over rounds, and the ratio eager / int8 (above 1: int8 is faster). Not a test:
timings depend on the machine and its load, so run it on an idle one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

import tinyconv
from tinyconv.data import load_dataset, model_dataset
from tinyconv.data.scoring import model_inputs
from tinyconv.export import export_onnx, fold_batchnorm, quantize_int8
from tinyconv.export.latency import onnx_latency, torch_latency
from tinyconv.export.onnx import onnx_session


def v5_with_real_statistics(data_dir: str | None) -> nn.Module:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    from mnist_v5 import RECIPE  # the recipe as shipped

    torch.manual_seed(0)
    model = RECIPE.build_model()
    train = load_dataset("mnist", data_dir, train=True)
    images = model_inputs(model, train, 1000)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None
    model.train()
    with torch.no_grad():
        model(images)
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="a trained model file (tinyconv.save)")
    parser.add_argument("--data-dir", default=None, help="dataset root ($TINYCONV_DATA)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every runtime")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--runs", type=int, default=300, help="timed calls per round")
    parser.add_argument("--json", type=Path, default=None, help="save the figures")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = tinyconv.load(args.model) if args.model else v5_with_real_statistics(args.data_dir)
    train = load_dataset(model_dataset(model).name, args.data_dir, train=True)
    calibration = model_inputs(model, train, 1000)
    folded, _ = fold_batchnorm(model)
    with tempfile.TemporaryDirectory() as folder:
        fp32_path, int8_path = Path(folder) / "m.onnx", Path(folder) / "m.int8.onnx"
        export_onnx(folded, fp32_path)
        quantize_int8(fp32_path, int8_path, calibration)
        fp32 = onnx_session(fp32_path, threads=args.threads)
        int8 = onnx_session(int8_path, threads=args.threads)
        image = calibration[:1].clone()
        rounds: dict[str, list[float]] = {"eager": [], "ort_fp32": [], "ort_int8": []}
        for _ in range(args.rounds):
            rounds["eager"].append(torch_latency(model, image, runs=args.runs).median_us)
            rounds["ort_fp32"].append(
                onnx_latency(fp32, image, label="fp32", runs=args.runs).median_us
            )
            rounds["ort_int8"].append(
                onnx_latency(int8, image, label="int8", runs=args.runs).median_us
            )
    medians = {key: statistics.median(values) for key, values in rounds.items()}
    result = {
        "model": args.model or "examples/mnist_v5.py (seed 0, real BN statistics)",
        "threads": args.threads,
        "rounds": args.rounds,
        "runs_per_round": args.runs,
        "median_us": medians,
        "eager_over_int8": medians["eager"] / medians["ort_int8"],
        "eager_over_ort_fp32": medians["eager"] / medians["ort_fp32"],
        "torch": torch.__version__,
    }
    for key, value in medians.items():
        print(f"{key:>9}: {value:8.1f} us  (batch 1, {args.threads} thread(s))")
    print(f"PyTorch eager / onnxruntime int8: {result['eager_over_int8']:.2f}x")
    print(f"PyTorch eager / onnxruntime fp32: {result['eager_over_ort_fp32']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
