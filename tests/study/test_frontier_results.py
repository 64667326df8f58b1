"""The frontier's and the distilled students' committed results: each seed's model file loads
and scores on the test set exactly what its results file records; the recorded runs are the
declared recipes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tinyconv as tc
from tinyconv.data import ImageDataset, TensorLoader, load_dataset
from tinyconv.recipe import Recipe
from tinyconv.recipes import RECIPES
from tinyconv.study.results import is_results_file
from tinyconv.train import evaluate

REPO_ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [REPO_ROOT / "results" / "frontier", REPO_ROOT / "results" / "compress"]
STUDIES = [
    path for folder in FOLDERS for path in sorted(folder.glob("*.json")) if is_results_file(path)
]
MODELS = [
    (study, folder / f"seed{seed}.model.pt")
    for study in STUDIES
    for folder in [study.with_suffix("")]
    for seed in json.loads(study.read_text())["seeds"]
]


@pytest.mark.parametrize("study", STUDIES, ids=[p.stem for p in STUDIES])
def test_a_ready_recipe_ran_as_declared(study: Path) -> None:
    recorded = Recipe.from_dict(json.loads(study.read_text())["recipe"])
    if recorded.name in RECIPES:  # a recipe of the package (others are JSON files beside)
        assert recorded == RECIPES[recorded.name]
    else:
        declared = study.parent / f"{recorded.name}.recipe.json"
        assert Recipe.from_dict(json.loads(declared.read_text())) == recorded


@pytest.mark.mnist
@pytest.mark.parametrize(("study", "model_file"), MODELS, ids=lambda v: Path(v).name)
def test_each_model_file_scores_what_was_recorded(
    study: Path, model_file: Path, mnist_root: Path, fashion_root: Path
) -> None:
    data = json.loads(study.read_text())
    record = data["seeds"][model_file.name.split(".")[0].removeprefix("seed")]
    model = tc.load(model_file)
    root = fashion_root if model.dataset == "fashion_mnist" else mnist_root
    test: ImageDataset = load_dataset(model.dataset, root, train=False)  # type: ignore[arg-type]
    assert tc.count_parameters(model) == record["params"]
    # equal on the CPU that measured it; one image of slack for another CPU's rounding
    accuracy = evaluate(model, TensorLoader(test, 1000)).accuracy
    assert accuracy == pytest.approx(record["final_test_acc"], abs=1e-4)


@pytest.mark.mnist
@pytest.mark.parametrize("study", STUDIES[:1], ids=[p.stem for p in STUDIES[:1]])
def test_a_model_file_loads_and_scores_in_a_fresh_process(study: Path, mnist_root: Path) -> None:
    record = json.loads(study.read_text())["seeds"]["0"]
    code = (
        "import sys, tinyconv as tc\n"
        "from tinyconv.data import TensorLoader, load_dataset\n"
        "from tinyconv.train import evaluate\n"
        "model = tc.load(sys.argv[1])\n"
        "test = load_dataset(model.dataset, sys.argv[2], train=False)\n"
        "print(evaluate(model, TensorLoader(test, 1000)).accuracy)\n"
    )
    model_file = study.with_suffix("") / "seed0.model.pt"
    done = subprocess.run(
        [sys.executable, "-c", code, str(model_file), str(mnist_root)],
        capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(record["final_test_acc"], abs=1e-4)
