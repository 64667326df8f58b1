"""The default torch threads: the cores other processes leave free, read in real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tinyconv.workers import busy_cores, free_cores

THREADS_OF_A_COMMAND = "from tinyconv.workers import apply_threads; print(apply_threads(None))"


def _threads_chosen(**env: str) -> int:
    environment = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"} | env
    done = subprocess.run(
        [sys.executable, "-c", THREADS_OF_A_COMMAND],
        capture_output=True, text=True, timeout=120, env=environment, check=True,
    )  # fmt: skip
    return int(done.stdout)


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="reads /proc/stat (Linux)")
def test_beside_busy_processes_a_command_takes_only_the_free_cores() -> None:
    cores = os.cpu_count() or 1
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(0.5)
        assert busy_cores() >= cores - 0.6
        assert _threads_chosen() == 1  # every core is held: one thread, not one per core
        assert _threads_chosen(OMP_NUM_THREADS="2") == 2  # an explicit setting wins
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def test_free_cores_leaves_the_busy_ones_and_never_fewer_than_one() -> None:
    assert free_cores(busy=0.0, cores=8) == 8
    assert free_cores(busy=3.4, cores=8) == 5
    assert free_cores(busy=9.0, cores=8) == 1
    assert free_cores(busy=-0.2, cores=2) == 2  # rounding noise never asks for more cores
