"""The models tinyconv ships: copies of committed model files, loaded by name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tinyconv as tc
from tinyconv.pretrained import SHIPPED, shipped_path

REPO = Path(__file__).resolve().parents[1]

SCORE = """
import json, sys
import tinyconv as tc
from tinyconv.data import load_dataset, score_images
model = tc.load(sys.argv[1])  # by name: no file of that name here
test = load_dataset(model.dataset, sys.argv[2], train=False)
print(json.dumps([score_images(model, test).accuracy, model.metadata["final_test_acc"]]))
"""


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_shipped_model_is_the_committed_file_it_names(name: str) -> None:
    assert shipped_path(name).read_bytes() == (REPO / SHIPPED[name]).read_bytes()
    assert tc.load(name).metadata["recipe"] == name


@pytest.mark.mnist
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_model_loaded_by_name_in_a_fresh_process_scores_its_recorded_accuracy(
    name: str, mnist_root: Path, fashion_root: Path, tmp_path: Path
) -> None:
    root = fashion_root if name.startswith("fashion") else mnist_root
    done = subprocess.run(
        [sys.executable, "-c", SCORE, name, str(root)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=True,
    )  # fmt: skip
    scored, recorded = json.loads(done.stdout)
    assert scored == pytest.approx(recorded, abs=1e-4)


def test_an_unknown_name_lists_the_shipped_ones() -> None:
    with pytest.raises(FileNotFoundError, match=r"no model file at 'mnist_v9'.*mnist_v5"):
        tc.load("mnist_v9")
