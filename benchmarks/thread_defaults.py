"""The default torch threads against the best ``--threads``, on an idle and on a busy machine.

Each run is a real command in a fresh process, as a user types it: ``tinyconv study mnist_v5
--epochs 1 --train-subset N`` with no ``--threads`` (the default: the cores other processes
leave free), and with ``--threads T`` for every T from 1 to the machine's cores. The
machine is first left idle, then kept busy by two other processes spinning on a core each
(as two other trainings would). Each setting runs ``--rounds`` times, interleaved; the
training speed is the median of the runs' images per second (the study's own progress
line). The goal (issue "A newcomer's second hour"): the default within 25 % of the best
setting in both situations.

    python benchmarks/thread_defaults.py --data-dir ../shared/data --rounds 2 \
        --out benchmarks/results/thread_defaults.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def images_per_second(threads: int | None, data_dir: str, images: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "tinyconv", "study", "mnist_v5", "--epochs", "1",
                   "--train-subset", str(images), "--seeds", "1", "--data-dir", data_dir,
                   "--out", out, "--quiet"]  # fmt: skip
        if threads is not None:
            command += ["--threads", str(threads)]
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        record = json.loads(next(Path(out).glob("*.json")).read_text())
        (seed,) = record["seeds"].values()
        return float(seed["history"][0]["images_per_sec"]), seed.get("torch_threads")


def measure(settings: list[int | None], data_dir: str, images: int, rounds: int) -> dict:
    speeds: dict[str, list[float]] = {}
    chosen: dict[str, list[int]] = {}
    for _ in range(rounds):
        for threads in settings:
            name = "default" if threads is None else f"--threads {threads}"
            speed, used = images_per_second(threads, data_dir, images)
            speeds.setdefault(name, []).append(speed)
            chosen.setdefault(name, []).append(used)
            print(f"  {name}: {speed:,.0f} img/s ({used} threads)", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in speeds.items()}
    best = max((v, k) for k, v in medians.items() if k != "default")
    return {
        "img_per_s": speeds,
        "median_img_per_s": medians,
        "threads_used": chosen,
        "best": best[1],
        "default_over_best": medians["default"] / best[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    settings: list[int | None] = [None, *range(1, cores + 1)]
    result = {
        "command": "python benchmarks/thread_defaults.py " + " ".join(sys.argv[1:]),
        "cpu": platform.processor() or platform.machine(),
        "cores": cores,
    }
    print("idle machine", file=sys.stderr)
    result["idle"] = measure(settings, args.data_dir, args.images, args.rounds)
    print("two other processes spinning", file=sys.stderr)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(1.0)
        result["busy"] = measure(settings, args.data_dir, args.images, args.rounds)
    finally:
        for spinner in spinners:
            spinner.kill()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for situation in ("idle", "busy"):
        part = result[situation]
        print(f"{situation}: default {part['median_img_per_s']['default']:,.0f} img/s, best "
              f"{part['best']} {part['median_img_per_s'][part['best']]:,.0f}: default / best "
              f"{part['default_over_best']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
