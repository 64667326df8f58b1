"""Batch-1 latency: onnxruntime defaults against the tiny-model session, fp32 and int8.

Usage (from the repository root)::

    python benchmarks/deploy_latency.py --model path/to/seed0.model.pt \
        --data-dir ../shared/data --threads 1 --json latency.json

Without ``--model`` it builds V5 from ``examples/mnist_v5.py`` (seed 0) and gives its
BatchNorms running statistics from 1,000 training images: latency does not depend on
the weights' values. The model is folded, exported to ONNX and quantized to int8
(QDQ, calibrated on training images); then five runtimes are timed in interleaved
rounds, each round a median of ``--runs`` batch-1 calls per runtime:

* PyTorch eager on the unfolded model, with ``--threads`` threads;
* onnxruntime fp32 and int8 with onnxruntime's default ``SessionOptions`` (intra-op
  threads: one per physical core; pool threads spin while waiting);
* onnxruntime fp32 and int8 opened by :func:`tinyconv.export.tiny_model_session`
  (``--threads`` intra-op threads, no spinning, full graph optimisation, sequential).

The figure is the median over rounds, with the ratios defaults / tiny (above 1: the
tiny-model session is faster) and int8 / fp32 (above 1: int8 is slower), and the sizes
of the two ONNX files. Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

import tinyconv
from tinyconv._extras import require
from tinyconv.data import load_dataset, model_dataset
from tinyconv.data.scoring import model_inputs
from tinyconv.export import export_onnx, fold_batchnorm, quantize_int8, tiny_model_session
from tinyconv.export.latency import onnx_latency, torch_latency


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
    parser.add_argument(
        "--threads", type=int, default=1, help="threads of eager and the tiny-model session"
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--runs", type=int, default=300, help="timed calls per round")
    parser.add_argument("--json", type=Path, default=None, help="save the figures")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = tinyconv.load(args.model) if args.model else v5_with_real_statistics(args.data_dir)
    train = load_dataset(model_dataset(model).name, args.data_dir, train=True)
    calibration = model_inputs(model, train, 1000)
    folded, _ = fold_batchnorm(model)
    ort = require("onnxruntime", "export")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        paths = {"fp32": Path(folder) / "m.onnx", "int8": Path(folder) / "m.int8.onnx"}
        export_onnx(folded, paths["fp32"])
        quantize_int8(paths["fp32"], paths["int8"], calibration)
        sizes = {kind: path.stat().st_size for kind, path in paths.items()}
        sessions = {}
        for kind, path in paths.items():
            default = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            sessions[f"ort_{kind}_defaults"] = default
            sessions[f"ort_{kind}_tiny"] = tiny_model_session(path, threads=args.threads)
        image = calibration[:1].clone()
        rounds: dict[str, list[float]] = {"eager": [], **{name: [] for name in sessions}}
        for _ in range(args.rounds):
            rounds["eager"].append(torch_latency(model, image, runs=args.runs).median_us)
            for name, session in sessions.items():
                latency = onnx_latency(session, image, label=name, runs=args.runs)
                rounds[name].append(latency.median_us)
    load_after = os.getloadavg()
    medians = {key: statistics.median(values) for key, values in rounds.items()}
    ratios = {
        "fp32_defaults_over_tiny": medians["ort_fp32_defaults"] / medians["ort_fp32_tiny"],
        "int8_defaults_over_tiny": medians["ort_int8_defaults"] / medians["ort_int8_tiny"],
        "int8_over_fp32_tiny": medians["ort_int8_tiny"] / medians["ort_fp32_tiny"],
        "eager_over_fp32_tiny": medians["eager"] / medians["ort_fp32_tiny"],
    }
    result = {
        "model": args.model or "examples/mnist_v5.py (seed 0, real BN statistics)",
        "threads": args.threads,
        "ort_default_intra_op_threads": "onnxruntime's default (one per physical core)",
        "rounds": args.rounds,
        "runs_per_round": args.runs,
        "median_us": medians,
        "rounds_us": rounds,
        "ratios": ratios,
        "onnx_bytes": sizes,
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "cpu_flags_vnni": cpu_has_vnni(),
        "load_before": load_before,
        "load_after": load_after,
    }
    print(
        f"torch {torch.__version__}, onnxruntime {ort.__version__}; VNNI: {cpu_has_vnni()}; "
        f"load average before {[round(v, 2) for v in load_before]}, "
        f"after {[round(v, 2) for v in load_after]}"
    )
    for key, value in medians.items():
        runs = " ".join(f"{v:.0f}" for v in rounds[key])
        print(f"{key:>18}: {value:8.1f} us  (batch 1; rounds {runs})")
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}x")
    print(f"ONNX bytes: fp32 {sizes['fp32']:,}, int8 {sizes['int8']:,}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


def cpu_has_vnni() -> bool | None:
    """Whether the CPU reports AVX-512 VNNI or AVX-VNNI (``None`` off Linux)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    return "avx512_vnni" in flags or "avx_vnni" in flags


if __name__ == "__main__":
    sys.exit(main())
