"""Instructions per inference against multiply-accumulates, per Cortex-M core (CMSIS-NN).

For each shipped model (declared below) this exports the int8 .tflite once, runs it with
``tinyconv.mcu.run_on_mcu`` on every core asked for, over the first N MNIST test images,
and keeps each core's report as ``<out>/<model>.<core>.json``. It then prints, and saves
as ``<out>/efficiency.json``, the instructions per inference and per multiply-accumulate
of each model on each core, and of each convolution operator: how efficiently the
CMSIS-NN kernels turn MACs into instructions, and which layers cost more than their MACs.

Instructions are counted by QEMU (``-icount``): exact and repeatable, not cycles.

    python benchmarks/mcu_efficiency.py --cores cortex-m4 cortex-m7 cortex-m33 \
        --images 1000 --out results/mcu
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import tinyconv
from tinyconv.export import export_tflite
from tinyconv.mcu import run_on_mcu

REPO = Path(__file__).resolve().parents[1]
MODELS = {
    "mnist_v5": REPO / "results/cpu/mnist_v5/seed0.model.pt",
    "mnist_wide_onecycle": REPO / "results/frontier/mnist_wide_onecycle/seed0.model.pt",
    "mnist_4k_onecycle": REPO / "results/frontier/mnist_4k_onecycle/seed0.model.pt",
}
"""The models of the table: V5 as written and the < 8k and <= 4k frontier models (seed 0)."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", nargs="+", default=["cortex-m4", "cortex-m7"])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.models:
        params = tinyconv.count_parameters(tinyconv.load(MODELS[name]))
        with tempfile.TemporaryDirectory() as work:
            exported = Path(work) / "export"
            export_tflite(MODELS[name], exported, int8=True, data_root=args.data_dir, name=name)
            for core in args.cores:
                ran = Path(work) / core
                report = run_on_mcu(
                    exported / f"{name}.int8.tflite", ran, cpu=core, images=args.images,
                    data_root=args.data_dir, log=lambda line: print(line, file=sys.stderr),
                )  # fmt: skip
                kept = json.loads((ran / f"{name}.{core}.mcu.json").read_text())
                source = MODELS[name].relative_to(REPO)
                kept["model"] = f"{source} (int8 .tflite exported by tinyconv.export)"
                (args.out / f"{name}.{core}.json").write_text(json.dumps(kept, indent=2) + "\n")
                ins = report.instructions
                rows.append(
                    {
                        "model": name,
                        "params": params,
                        "core": core,
                        "macs": ins["macs"],
                        "instructions": ins["mean"],
                        "instructions_per_mac": ins["per_mac"],
                        "flash_bytes": report.flash["total"],
                        "ram_bytes": report.ram["total"],
                        "accuracy": report.accuracy["mcu_int8"],
                        "agreement": report.parity["argmax_agreement"],
                        "operators": [
                            {k: op[k] for k in ("index", "operator", "macs", "per_mac", "share")}
                            for op in ins["per_operator"]
                            if op["macs"]
                        ],
                    }
                )
                print(
                    f"{name:22s} {core:10s} {ins['macs']:>10,} MACs {ins['mean']:>12,.0f} "
                    f"instructions {ins['per_mac']:5.2f}/MAC  flash {report.flash['total']:,} B  "
                    f"RAM {report.ram['total']:,} B  acc {100 * report.accuracy['mcu_int8']:.2f} %",
                    flush=True,
                )
    command = "python benchmarks/mcu_efficiency.py " + " ".join(sys.argv[1:])
    data = {"command": command, "images": args.images, "rows": rows}
    (args.out / "efficiency.json").write_text(json.dumps(data, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
