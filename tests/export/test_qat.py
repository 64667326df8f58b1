"""Quantization-aware int8: the fake-quantized model, its int8 graph and ``tinyconv export
--qat-epochs`` end to end on real MNIST."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import tinyconv
from tinyconv.cli import main
from tinyconv.data import ImageDataset, train_val_split
from tinyconv.export import ExportError, export_model, fold_batchnorm, onnx_session
from tinyconv.export.onnx import onnx_logits
from tinyconv.export.onnx_report import load_report
from tinyconv.export.qat import QUANTIZER, QuantizationAwareNet, fine_tune_quantization_aware

from .conftest import TEST_IMAGES, normalise
from .test_errors import assert_one_line_error, tinyconv_cli

pytest.importorskip("torchao")


def scales(model: QuantizationAwareNet) -> list[torch.Tensor]:
    """Every fake-quantize operation's current scale."""
    return [m.scale.clone() for m in model.modules() if hasattr(m, "observer_enabled")]


@pytest.fixture
def aware(trained_v5: tinyconv.TinyNet) -> QuantizationAwareNet:
    folded, _ = fold_batchnorm(trained_v5)
    return QuantizationAwareNet(folded, (1, 28, 28))


def test_eval_freezes_the_ranges_and_train_follows_the_batches(
    aware: QuantizationAwareNet, mnist_train: ImageDataset
) -> None:
    images = normalise(mnist_train, 256)
    aware.train()
    aware(images[:128])
    first = scales(aware)
    assert first and all(bool(torch.isfinite(s).all()) for s in first)
    aware.eval()
    aware(images[128:] * 3)  # other, wider inputs: frozen ranges do not move
    assert all(torch.equal(a, b) for a, b in zip(first, scales(aware), strict=True))
    aware.train()
    aware(images[128:] * 3)
    assert any(not torch.equal(a, b) for a, b in zip(first, scales(aware), strict=True))
    aware.eval()


def test_the_int8_graph_computes_what_the_fake_quantized_model_does(
    aware: QuantizationAwareNet,
    mnist_train: ImageDataset,
    test_images: tuple[torch.Tensor, torch.Tensor],
) -> None:
    images, _ = test_images
    with torch.no_grad():
        aware.train()(normalise(mnist_train, 512))  # ranges from training images
        fake = aware.eval()(images)
        real = aware.converted()(images)
    assert real.shape == fake.shape == (len(images), 10)
    # The same int8 values, rounded by other kernels: a near tie of this weak model (one
    # epoch on 2,000 images) may flip, no more than a few of the 500.
    assert float((real.argmax(1) == fake.argmax(1)).float().mean()) >= 0.98
    assert float((real - fake).abs().max()) < 0.5  # a few steps of the output's int8 scale


def test_bad_settings_are_refused_before_any_export_work(v5_file: Path, tmp_path: Path) -> None:
    for settings, message in (
        ({"qat_epochs": 1, "qat_lr": 0.0}, "learning rate must be > 0"),
        ({"qat_epochs": 1, "qat_train_images": 0}, "train_images must be an integer >= 1"),
    ):
        with pytest.raises(ExportError, match=message):
            export_model(v5_file, tmp_path / "out", int8=True, **settings)
    assert not (tmp_path / "out").exists()


def test_the_one_percent_rule_allows_at_least_one_flip() -> None:
    from tinyconv.export.qat import mismatches_allowed

    assert [mismatches_allowed(n) for n in (1, 80, 199, 200, 10_000)] == [1, 1, 1, 2, 100]


def test_bad_epochs_and_learning_rates_are_refused(
    trained_v5: tinyconv.TinyNet, mnist_train: ImageDataset
) -> None:
    folded, _ = fold_batchnorm(trained_v5)
    train, val = train_val_split(mnist_train.subset(range(200)), 50)
    for epochs in (0, -1, 1.5, True):
        with pytest.raises(ExportError, match="epochs must be an integer >= 1"):
            fine_tune_quantization_aware(trained_v5, folded, train, val, epochs=epochs)  # type: ignore[arg-type]
    for lr in (0, -1e-3, float("nan")):
        with pytest.raises(ExportError, match="learning rate must be > 0"):
            fine_tune_quantization_aware(trained_v5, folded, train, val, epochs=1, lr=lr)


@pytest.fixture(scope="module")
def exported(
    v5_file: Path, mnist_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("qat")
    argv = ["export", str(v5_file), "--out", str(out), "--int8", "--data-dir", str(mnist_root)]
    argv += ["--qat-epochs", "2", "--qat-train-images", "3000", "--qat-lr", "0.01"]
    argv += ["--test-images", str(TEST_IMAGES), "--latency-runs", "20"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(argv) == 0
    return out, load_report(out / "v5.export.json"), printed.getvalue()


def test_the_export_writes_the_same_files_and_records_the_fine_tuning(
    exported: tuple[Path, dict, str],
) -> None:
    out, report, printed = exported
    assert sorted(p.name for p in out.iterdir()) == ["v5.export.json", "v5.int8.onnx", "v5.onnx"]
    assert "Latency onnxruntime int8 (batch 1)" in printed
    aware = report["quantization_aware"]
    assert aware["quantizer"] == QUANTIZER
    assert (aware["epochs"], aware["lr"], aware["train_images"]) == (2, 0.01, 3000)
    assert aware["val_images"] == 5000  # carved from the training images, never the test set
    assert aware["augmentation"] == "none (the model file records no recipe)"
    assert [record["epoch"] for record in aware["history"]] == [1, 2]
    assert all(record["eval_name"] == "val" for record in aware["history"])
    assert report["calibration"] == {
        "images": 3000,
        "source": "quantization-aware fine-tuning: 2 epoch(s) on 3,000 mnist training images",
    }
    assert "torchao" in report["environment"]


def test_the_int8_file_is_qdq_with_per_channel_int8_weights_and_scores_as_reported(
    exported: tuple[Path, dict, str], test_images: tuple[torch.Tensor, torch.Tensor]
) -> None:
    out, report, _ = exported
    graph = onnx.load(out / "v5.int8.onnx").graph
    ops = [node.op_type for node in graph.node]
    assert ops.count("QuantizeLinear") >= 6 and "DequantizeLinear" in ops
    weights = [init for init in graph.initializer if init.data_type == onnx.TensorProto.INT8]
    assert sum(int(np.prod(init.dims)) for init in weights) >= 6000  # the conv weights
    per_channel = [n for n in graph.node if n.op_type == "DequantizeLinear" and n.attribute]
    assert per_channel  # weights dequantized along their output-channel axis
    assert not [node.name for node in graph.node if node.metadata_props]  # no stack traces
    assert report["onnx_bytes_int8"] < report["onnx_bytes_fp32"]
    images, labels = test_images
    logits = onnx_logits(onnx_session(out / "v5.int8.onnx"), images)
    accuracy = float((logits.argmax(1) == labels.numpy()).mean())
    assert accuracy == report["accuracy"]["onnx_int8"]  # scored here again, independently
    parity = report["parity"]
    assert parity["onnx_int8_vs_quantized_pytorch_argmax_agreement"] >= 0.99
    # against the weak fp32 model it started from: 2 epochs of fine-tuning move many of its
    # near ties (79.6 % agreement with hash dropout masks, the default since recipe format 2)
    assert parity["onnx_int8_argmax_agreement"] >= 0.75


def test_fine_tuning_through_the_rounding_trains_the_weak_model(
    exported: tuple[Path, dict, str],
) -> None:
    """One epoch on 2,000 images left the model weak: 2 more, rounded, must lift validation."""
    _, report, _ = exported
    aware = report["quantization_aware"]
    assert aware["history"][-1]["eval_acc"] > aware["val_acc_start"]
    assert report["accuracy"]["onnx_int8"] > 0.7


def test_qat_needs_int8_and_onnx_one_line_errors_and_nothing_written(
    v5_file: Path, mnist_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    base = ["export", str(v5_file), "--out", str(out), "--data-dir", str(mnist_root)]
    without_int8, tflite, bad_epochs = tinyconv_cli(
        [*base, "--qat-epochs", "1"],
        [*base, "--int8", "--qat-epochs", "1", "--format", "tflite"],
        [*base, "--int8", "--qat-epochs", "-1"],
    )
    assert_one_line_error(without_int8, "pass int8=True (--int8)")
    assert_one_line_error(tflite, "drop --format tflite")
    assert_one_line_error(bad_epochs, "qat_epochs must be an integer >= 0")
    assert not out.exists()


def test_the_library_call_refuses_qat_without_int8(v5_file: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="pass int8=True"):
        export_model(v5_file, tmp_path / "out", int8=False, qat_epochs=1)
    assert not (tmp_path / "out").exists()
