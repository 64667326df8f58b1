"""Thread settings that only take effect at process start, compared side by side.

``OMP_WAIT_POLICY`` is read once, when OpenMP starts with ``import torch``, so it cannot
change inside one process as ``trainer_variants.py``'s variants do. This script runs
that benchmark's baseline (V5, ``TensorLoader`` + ``fit``, batch 128) in a fresh
process per setting, round by round, so a busy machine slows every setting alike:

* ``threads2``: 2 torch threads, OpenMP's default wait policy (idle threads spin);
* ``threads2-passive``: 2 threads with ``OMP_WAIT_POLICY=PASSIVE`` (idle threads sleep);
* ``threads1``: 1 thread.

Each setting runs with ``--dropout-masks`` as given (``torch`` by default). The figure
is the median over rounds of images/s and its ratio to the first setting. Not a test.

Run: python benchmarks/thread_settings.py --data-dir ../shared/data --rounds 3 --json t.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTINGS: dict[str, tuple[int, dict[str, str]]] = {
    "threads2": (2, {}),
    "threads2-passive": (2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    "threads1": (1, {}),
}
"""Setting name: (torch threads, extra environment)."""


def run_once(name: str, args: argparse.Namespace) -> dict:
    """One baseline run of ``trainer_variants.py`` in a fresh process with ``name``'s setting."""
    threads, extra = SETTINGS[name]
    variant = "hash-masks" if args.dropout_masks == "hash" else "baseline"
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run.json"
        command = [sys.executable, str(HERE / "trainer_variants.py"), "--only", variant,
                   "--rounds", "1", "--images", str(args.images), "--threads", str(threads),
                   "--json", str(out)]  # fmt: skip
        if args.data_dir:
            command += ["--data-dir", args.data_dir]
        env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
        env.update(extra)
        subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        return json.loads(out.read_text())["variants"][0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/")
    parser.add_argument("--images", type=int, default=3840, help="timed images per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dropout-masks", default="torch", choices=("torch", "hash"))
    parser.add_argument("--only", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--json", type=Path, default=None, help="save every figure here")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    speeds: dict[str, list[float]] = {name: [] for name in args.only}
    for round_index in range(1, args.rounds + 1):
        for name in args.only:
            result = run_once(name, args)
            speeds[name].append(result["images_per_sec"])
            print(f"round {round_index}: {name}: {result['images_per_sec']:,.0f} img/s",
                  file=sys.stderr, flush=True)  # fmt: skip
    load_after = os.getloadavg()
    print(
        f"V5 baseline, dropout masks {args.dropout_masks!r}, {args.images} timed images per "
        f"run, {args.rounds} interleaved rounds; load average before "
        f"{[round(v, 2) for v in load_before]}, after {[round(v, 2) for v in load_after]}"
    )
    reference = statistics.median(speeds[args.only[0]])
    rows = []
    print(f"\n{'setting':<20}{'img/s':>8}  {'runs':<24}{'ratio to ' + args.only[0]:>20}")
    for name in args.only:
        median = statistics.median(speeds[name])
        runs = " ".join(f"{speed:,.0f}" for speed in speeds[name])
        print(f"{name:<20}{median:>8,.0f}  {runs:<24}{median / reference:>19.2f}x")
        rows.append({"setting": name, "threads": SETTINGS[name][0], "env": SETTINGS[name][1],
                     "images_per_sec": median, "runs": speeds[name],
                     "ratio": median / reference})  # fmt: skip
    if args.json:
        report = {"dropout_masks": args.dropout_masks, "images": args.images,
                  "rounds": args.rounds, "load_before": load_before,
                  "load_after": load_after, "settings": rows}  # fmt: skip
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
