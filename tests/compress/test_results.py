"""The measured compression results: the committed model files load and score on the test set
what their JSON records, and the docs table says exactly what the JSON files hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tinyconv as tc
from tinyconv.data import ImageDataset, TensorLoader, load_dataset
from tinyconv.train import evaluate

REPO_ROOT = Path(__file__).resolve().parents[2]

RESULTS = sorted((REPO_ROOT / "results" / "compress").glob("*_seed*_max*_e*.json"))
PAGE = REPO_ROOT / "docs" / "compress.rst"


def table_row(result: dict) -> str:
    """One csv-table row of docs/compress.rst, as the page must show it."""
    pruned, scratch = result["pruned_finetuned"], result["scratch"]

    def pct(value: float) -> str:
        return f"{100 * value:.2f}"

    def drop(export: dict) -> str:
        return f"{export['int8_minus_fp32_points']:+.2f}"

    cells = [
        result["prune_report"]["recipe"],
        str(result["seed"]),
        f'"≤ {result["budget"]:,}"',
        f'"{pruned["params"]:,}"',
        pct(result["source"]["test_acc"]),
        pct(pruned["val_acc_pruned"]),
        pct(pruned["val_acc_final"]),
        pct(pruned["test_acc_final"]),
        str(scratch.get("epochs", result["epochs"])),  # recorded since --scratch-epochs
        pct(scratch["val_acc_final"]),
        pct(scratch["test_acc_final"]),
        drop(pruned["export"]),
        drop(scratch["export"]),
    ]
    return "   " + ", ".join(cells)


def test_there_are_results() -> None:
    assert RESULTS, "results/compress/*.json: no measured results committed"


@pytest.mark.parametrize("path", RESULTS, ids=[p.stem for p in RESULTS])
def test_docs_table_shows_every_result_as_recorded(path: Path) -> None:
    assert table_row(json.loads(path.read_text())) in PAGE.read_text().splitlines()


@pytest.mark.mnist
@pytest.mark.parametrize("path", RESULTS, ids=[p.stem for p in RESULTS])
def test_committed_models_score_what_was_recorded(
    path: Path, mnist_test: ImageDataset, request: pytest.FixtureRequest
) -> None:
    result = json.loads(path.read_text())
    if path.name.startswith("fashion_"):
        root = request.getfixturevalue("fashion_root")
        loader = TensorLoader(load_dataset("fashion_mnist", root, train=False), 1000)
    else:
        loader = TensorLoader(mnist_test, 1000)
    folder = path.with_name(path.stem.removesuffix(f"_scratch_e{result['scratch'].get('epochs')}"))
    scratch_epochs = result["scratch"].get("epochs", result["epochs"])
    stem = "scratch" if scratch_epochs == result["epochs"] else f"scratch_e{scratch_epochs}"
    for model_file, record in (
        (folder / "pruned" / "model.pt", result["pruned_finetuned"]),
        (folder / f"{stem}.model.pt", result["scratch"]),
    ):
        model = tc.load(model_file)  # a fresh load of the committed file
        assert tc.count_parameters(model) == record["params"] <= result["budget"]
        # equal on the CPU that measured it; one image of slack for another CPU's rounding
        assert evaluate(model, loader).accuracy == pytest.approx(record["test_acc_final"], abs=1e-4)
