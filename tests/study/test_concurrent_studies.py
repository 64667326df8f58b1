"""Two real processes on one study folder never lose a finished seed nor train one twice.

Issue 21 point 11: ``--first-seed 0`` and ``--first-seed 2`` started together into one
``--out`` left a results file with one process's seeds only (a lost update of the shared
JSON), and the same command started twice trained every seed twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tinyconv.study import load_results


def start(out: Path, data: Path, *args: str) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "tinyconv", "study", "mnist_v5", "--epochs", "1",
        "--train-subset", "500", "--threads", "1", "--quiet", "--device", "cpu",
        "--data-dir", str(data), "--out", str(out), *args,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def finish(*processes: subprocess.Popen[str]) -> list[str]:
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        outputs.append(out)
    return outputs


def trained(output: str) -> list[int]:
    return [int(seed) for seed in re.findall(r"^seed (\d+): training 1 epoch\b", output, re.M)]


@pytest.mark.mnist
def test_seeds_split_between_two_processes_all_reach_the_results_file(
    tmp_path: Path, mnist_root: Path
) -> None:
    first = start(tmp_path, mnist_root, "--seeds", "2", "--first-seed", "0")
    second = start(tmp_path, mnist_root, "--seeds", "2", "--first-seed", "2")
    outputs = finish(first, second)
    assert sorted(trained(outputs[0]) + trained(outputs[1])) == [0, 1, 2, 3]
    data = load_results(tmp_path / "mnist_v5_train500.json")
    assert sorted(data["seeds"], key=int) == ["0", "1", "2", "3"]
    for seed in range(4):
        assert (tmp_path / "mnist_v5_train500" / f"seed{seed}.model.pt").is_file()
    assert not list((tmp_path / "mnist_v5_train500").glob("*.lock"))  # claims and lock gone


@pytest.mark.mnist
def test_the_same_command_twice_trains_each_seed_once(tmp_path: Path, mnist_root: Path) -> None:
    first = start(tmp_path, mnist_root, "--seeds", "3")
    second = start(tmp_path, mnist_root, "--seeds", "3")
    outputs = finish(first, second)
    assert sorted(trained(outputs[0]) + trained(outputs[1])) == [0, 1, 2]
    for output in outputs:  # every seed it did not train, it says why
        for seed in set(range(3)) - set(trained(output)):
            assert re.search(
                rf"^seed {seed}: (being trained by process \d+ on .* since .*|already "
                rf"finished on cpu on .* UTC with tinyconv .*), skipped$",
                output,
                re.M,
            ), output
    data = load_results(tmp_path / "mnist_v5_train500.json")
    assert sorted(data["seeds"], key=int) == ["0", "1", "2"]


@pytest.mark.parametrize("how", ["exits", "is killed"])
def test_a_claim_never_outlives_its_process(tmp_path: Path, how: str) -> None:
    """A seed claimed by a process that died (even by kill -9) can be claimed again."""
    from tinyconv.study.claims import claim_holder, claim_seed

    path = tmp_path / "seed0.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from tinyconv.study.claims import claim_seed
            claim = claim_seed(Path({str(path)!r}))
            print("held", flush=True)
            time.sleep(0 if {how == "exits"} else 120)
        """)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    if how == "is killed":
        assert claim_seed(path) is None
        assert claim_holder(path).startswith(f"process {holder.pid} on ")
        holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    mine = claim_seed(path)
    assert mine is not None
    mine.release()
