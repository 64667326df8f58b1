"""How long ``import tinyconv`` takes beyond ``import torch``, in fresh interpreters.

Each round starts a new interpreter that times ``import torch`` and then ``import
tinyconv`` with ``time.perf_counter``; the medians over the rounds are printed, with which
heavy modules ``import tinyconv`` loaded on top of torch. For a per-module breakdown run
``python -X importtime -c "import torch; import tinyconv"``. A benchmark, not a test: the
goal (at most 0.4 s over torch) is read here, never asserted in the suite (the suite checks
only *which* modules load, in ``tests/test_import.py``).

    python benchmarks/import_time.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CODE = """
import json, sys, time
started = time.perf_counter()
import torch
torch_done = time.perf_counter()
before = set(sys.modules)
import tinyconv
done = time.perf_counter()
heavy = ("torchvision", "matplotlib", "optuna", "onnx", "tinyconv.cli", "tinyconv.data")
print(json.dumps([torch_done - started, done - torch_done,
                  sorted(m for m in heavy if m in set(sys.modules) - before)]))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rounds = []
    for _ in range(args.rounds):
        done = subprocess.run(
            [sys.executable, "-c", CODE], capture_output=True, text=True, check=True
        )
        rounds.append(json.loads(done.stdout))
    torch_s = statistics.median(r[0] for r in rounds)
    over_s = statistics.median(r[1] for r in rounds)
    print(f"import torch: {torch_s:.2f} s (median of {args.rounds} fresh interpreters)")
    heavy = rounds[-1][2] or "nothing heavy"
    print(f"import tinyconv on top: {over_s:.3f} s; loaded with it: {heavy}")


if __name__ == "__main__":
    main()
