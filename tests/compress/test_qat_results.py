"""The committed quantization-aware results: each report belongs to a committed model file
(which scores, in float, what the report and its control record), and its record, its
control and the learning-rate choice agree on how the fine-tuning ran."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

import tinyconv as tc
from tinyconv.data import Normalization, TensorLoader, load_dataset
from tinyconv.export.qat import QUANTIZER
from tinyconv.train import evaluate

REPO_ROOT = Path(__file__).resolve().parents[2]

QAT = REPO_ROOT / "results" / "compress" / "qat"
REPORTS = sorted(QAT.glob("*/*.export.json"))


def example() -> object:
    spec = importlib.util.spec_from_file_location("qat_int8", REPO_ROOT / "examples/qat_int8.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_there_are_results_and_the_chosen_rate_is_the_one_used() -> None:
    assert len(REPORTS) >= 3
    choice = json.loads((QAT / "lr_choice.json").read_text())
    best = max(choice["mean_final_val_acc"].items(), key=lambda item: item[1])
    assert float(best[0]) == choice["chosen_lr"]
    for path in REPORTS:
        assert json.loads(path.read_text())["quantization_aware"]["lr"] == choice["chosen_lr"]


@pytest.mark.parametrize("path", REPORTS, ids=[p.parent.name for p in REPORTS])
def test_report_control_and_name_agree(path: Path) -> None:
    report = json.loads(path.read_text())
    aware = report["quantization_aware"]
    control = json.loads((QAT / f"{path.parent.name}.control.json").read_text())
    assert aware["quantizer"] == QUANTIZER and aware["rounding"] is True
    assert control["fine_tuning"]["rounding"] is False
    for key in ("epochs", "lr", "seed", "train_images", "val_images", "augmentation"):
        assert control["fine_tuning"][key] == aware[key], key
    assert control["model"] == report["model"]
    assert example().result_name(Path(report["model"])) == path.parent.name
    assert report["parity"]["onnx_int8_vs_quantized_pytorch_argmax_agreement"] >= 0.99
    assert report["accuracy"]["test_images"] == 10000


@pytest.mark.mnist
@pytest.mark.parametrize("path", REPORTS, ids=[p.parent.name for p in REPORTS])
def test_the_committed_model_scores_what_was_recorded(
    path: Path, request: pytest.FixtureRequest
) -> None:
    report = json.loads(path.read_text())
    fashion = report["dataset"] == "fashion_mnist"
    root = request.getfixturevalue("fashion_root" if fashion else "mnist_root")
    control = json.loads((QAT / f"{path.parent.name}.control.json").read_text())
    model = tc.load(REPO_ROOT / report["model"])
    test = load_dataset(report["dataset"], root, train=False)
    norm = Normalization.of_model(model) or test.normalization
    test = dataclasses.replace(test, mean=norm.mean, std=norm.std)
    accuracy = evaluate(model.eval(), TensorLoader(test, 1000)).accuracy
    assert accuracy == pytest.approx(report["accuracy"]["pytorch"], abs=1e-4)
    assert accuracy == pytest.approx(control["test_acc_source"], abs=1e-4)


def test_result_names() -> None:
    name = example().result_name
    assert name(Path("results/compress/X/scratch_e20.model.pt")) == "X_scratch_e20"
    assert name(Path("results/compress/X/pruned/model.pt")) == "X_pruned"
    assert name(Path("results/fashion/fashion_v5/seed0.model.pt")) == "fashion_v5_seed0"
    assert name(Path("/home/me/runs/m.model.pt")) == "me_runs_m"  # last two folders
