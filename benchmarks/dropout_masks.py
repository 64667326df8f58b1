"""Dropout mask cost: ``F.dropout`` against hash masks, per V5 dropout tensor, side by side.

For every dropout layer of V5 (``examples/mnist_v5.py``) the input shape at the chosen
batch size is read off a forward pass; then, round by round, each shape is dropped with
``F.dropout`` (torch's ``bernoulli_`` mask) and with
:func:`tinyconv.train.hash_dropout.hash_dropout` (key draw, hash, multiply), each a
median of ``--calls`` timed calls, at every thread count of ``--threads``. The variants
run interleaved, so a busy machine slows them alike; the figure is the median over
rounds and the ratio ``F.dropout / hash`` (above 1: hash masks are faster). Not a test.

Run: python benchmarks/dropout_masks.py --threads 1 2 --rounds 5 --json masks.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from tinyconv.train.hash_dropout import hash_dropout

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

from mnist_v5 import RECIPE  # examples/ is not a package


def dropout_inputs(batch_size: int) -> list[tuple[tuple[int, ...], float]]:
    """Shape and ``p`` of the input of every ``nn.Dropout`` of V5, in forward order."""
    model = RECIPE.build_model()
    seen: list[tuple[tuple[int, ...], float]] = []
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.register_forward_hook(
                lambda layer, args, _: seen.append((tuple(args[0].shape), layer.p))
            )
    model.train()
    with torch.no_grad():
        model(torch.zeros(batch_size, model.in_channels, *model.input_size))
    return seen


def median_us(call: Callable[[], object], calls: int) -> tuple[float, float]:
    """Median wall and process CPU time of ``call`` over ``calls`` timed calls (two untimed first).

    On a busy machine the wall time of a long call includes more time slices lost to other
    processes than that of a short call; the CPU time does not (with one thread it is the
    work itself), so the benchmark reports both.
    """
    call()
    call()
    walls, cpus = [], []
    for _ in range(calls):
        cpu, start = time.process_time_ns(), time.perf_counter_ns()
        call()
        walls.append(time.perf_counter_ns() - start)
        cpus.append(time.process_time_ns() - cpu)
    return statistics.median(walls) / 1000, statistics.median(cpus) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, nargs="+", default=[torch.get_num_threads()])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=20, help="timed calls per figure")
    parser.add_argument("--json", type=Path, default=None, help="save every figure here")
    args = parser.parse_args(argv)
    inputs = dropout_inputs(args.batch_size)
    load_before = os.getloadavg()
    methods: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
        "F.dropout": lambda x, p: F.dropout(x, p, True),
        "hash": lambda x, p: hash_dropout(x, p, True),
    }
    tensors = [torch.randn(shape) for shape, _ in inputs]
    clocks = ("wall", "cpu")
    runs: dict[tuple[str, int, str, str], list[float]] = {}
    torch.manual_seed(0)
    for _ in range(args.rounds):
        for threads in args.threads:
            torch.set_num_threads(threads)
            for (shape, p), x in zip(inputs, tensors, strict=True):
                for name, method in methods.items():
                    times = median_us(lambda method=method, x=x, p=p: method(x, p), args.calls)
                    for clock, value in zip(clocks, times, strict=True):
                        runs.setdefault((clock, threads, str(shape), name), []).append(value)
    load_after = os.getloadavg()
    print(
        f"torch {torch.__version__}; V5 dropout inputs at batch {args.batch_size}; "
        f"{args.rounds} interleaved rounds, median of {args.calls} calls each; "
        f"load average before {[round(v, 2) for v in load_before]}, "
        f"after {[round(v, 2) for v in load_after]}"
    )
    rows = []
    for clock in clocks:
        title = "wall time" if clock == "wall" else "process CPU time (all threads)"
        print(f"\n{title}")
        print(f"{'threads':>7}  {'shape':<18}{'elements':>10}{'F.dropout':>12}{'hash':>10}"
              f"{'ratio':>8}  {'ns/elem F / hash':>18}")  # fmt: skip
        for threads in args.threads:
            totals = {name: 0.0 for name in methods}
            for shape, p in inputs:
                per_run = {name: runs[(clock, threads, str(shape), name)] for name in methods}
                medians = {name: statistics.median(values) for name, values in per_run.items()}
                count = torch.Size(shape).numel()
                for name in methods:
                    totals[name] += medians[name]
                ratio = medians["F.dropout"] / medians["hash"]
                rows.append({"clock": clock, "threads": threads, "shape": shape, "p": p,
                             "elements": count, "median_us": medians, "ratio": ratio,
                             "runs_us": per_run})  # fmt: skip
                label = "x".join(map(str, shape))
                per_element = [1000 * medians[name] / count for name in methods]
                print(
                    f"{threads:>7}  {label:<18}{count:>10,}{medians['F.dropout']:>10,.0f}us"
                    f"{medians['hash']:>8,.0f}us{ratio:>7.1f}x  "
                    f"{per_element[0]:>8.2f} / {per_element[1]:.2f}"
                )
            ratio = totals["F.dropout"] / totals["hash"]
            rows.append({"clock": clock, "threads": threads, "shape": "all five",
                         "median_us": totals, "ratio": ratio})  # fmt: skip
            print(f"{threads:>7}  {'all five (a step)':<28}{totals['F.dropout']:>10,.0f}us"
                  f"{totals['hash']:>8,.0f}us{ratio:>7.1f}x")  # fmt: skip
    if args.json:
        result = {
            "torch": torch.__version__,
            "batch_size": args.batch_size,
            "rounds": args.rounds,
            "calls": args.calls,
            "load_before": load_before,
            "load_after": load_after,
            "rows": rows,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
