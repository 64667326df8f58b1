"""``tinyconv export`` end to end on a trained model: ONNX parity, int8 accuracy, report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import tinyconv
from tinyconv.cli import main
from tinyconv.export import onnx_session
from tinyconv.export.onnx import onnx_logits
from tinyconv.export.onnx_report import deploy_rst, load_report

from .conftest import TEST_IMAGES


@pytest.fixture(scope="module")
def exported(
    v5_file: Path, mnist_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("deploy")
    argv = ["export", str(v5_file), "--out", str(out), "--int8", "--data-dir", str(mnist_root)]
    argv += ["--calibration-images", "500", "--test-images", str(TEST_IMAGES)]
    argv += ["--latency-runs", "20"]
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(argv) == 0
    return out, load_report(out / "v5.export.json"), printed.getvalue()


def test_files_and_printed_table(exported: tuple[Path, dict, str]) -> None:
    out, report, printed = exported
    assert sorted(p.name for p in out.iterdir()) == ["v5.export.json", "v5.int8.onnx", "v5.onnx"]
    assert not list(out.glob(".*"))  # no temporary files left behind
    assert printed.startswith("Model: ") and "Peak act fp32" in printed
    assert "Latency onnxruntime int8 (batch 1)" in printed
    assert report["files"] == {
        "onnx_fp32": "v5.onnx",
        "onnx_int8": "v5.int8.onnx",
        "report": "v5.export.json",
    }
    assert report["onnx_bytes_fp32"] == (out / "v5.onnx").stat().st_size
    assert report["onnx_bytes_int8"] == (out / "v5.int8.onnx").stat().st_size
    assert report["calibration"]["source"] == "first 500 mnist training images"


def test_onnx_fp32_matches_pytorch_on_real_images(
    exported: tuple[Path, dict, str],
    trained_v5: tinyconv.TinyNet,
    test_images: tuple[torch.Tensor, torch.Tensor],
) -> None:
    out, report, _ = exported
    assert report["parity"]["onnx_fp32_argmax_agreement"] == 1.0
    assert report["parity"]["onnx_fp32_vs_pytorch_max_abs_logit"] < 1e-4
    assert report["parity"]["folded_vs_pytorch_max_abs_logit"] < 1e-4
    session = onnx_session(out / "v5.onnx", threads=1)
    images = test_images[0]
    with torch.no_grad():
        expected = trained_v5(images).numpy()
    for batch in (1, 7, TEST_IMAGES):  # the batch dimension is dynamic
        got = onnx_logits(session, images[:batch], batch_size=batch)
        np.testing.assert_allclose(got, expected[:batch], atol=1e-4, rtol=0)
    # the folded graph: one BatchNormalization (before SE) left of five
    ops = [node.op_type for node in onnx.load(out / "v5.onnx").graph.node]
    assert ops.count("BatchNormalization") == 1


def test_int8_accuracy_close_to_fp32(exported: tuple[Path, dict, str]) -> None:
    _, report, _ = exported
    accuracy = report["accuracy"]
    assert accuracy["test_images"] == TEST_IMAGES
    assert accuracy["pytorch"] > 0.7  # one epoch on 2,000 images: far above chance
    assert accuracy["onnx_fp32"] == accuracy["pytorch"]
    assert abs(accuracy["onnx_int8"] - accuracy["pytorch"]) <= 0.03
    assert report["parity"]["onnx_int8_argmax_agreement"] >= 0.9


def test_int8_model_is_qdq_with_per_channel_int8_weights(exported: tuple[Path, dict, str]) -> None:
    out, report, _ = exported
    model = onnx.load(out / "v5.int8.onnx")
    ops = [node.op_type for node in model.graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    int8_weights = [
        init for init in model.graph.initializer if init.data_type == onnx.TensorProto.INT8
    ]
    assert sum(int(np.prod(init.dims)) for init in int8_weights) >= 6000  # conv weights
    per_channel = [
        init for init in model.graph.initializer if init.name.endswith("_scale") and init.dims
    ]
    assert per_channel  # a scale per output channel, not one per tensor
    assert report["onnx_bytes_int8"] < report["onnx_bytes_fp32"]


def test_device_costs_in_the_report(exported: tuple[Path, dict, str]) -> None:
    _, report, _ = exported
    # Peak at batch 1 is conv2 (ReLU fused, BN folded): its 8x26x26 input and 12x24x24 output.
    assert report["peak_activation_bytes_fp32"] == (8 * 26 * 26 + 12 * 24 * 24) * 4 == 49_280
    assert report["peak_activation_bytes_int8"] == 12_320
    assert report["macs"] == 840_384
    assert report["params_original"] == 6_364
    assert report["weight_bytes_fp32"] == 4 * report["params"]
    assert report["weight_bytes_int8"] < report["weight_bytes_fp32"] / 3
    assert next(layer["name"] for layer in report["layers"]) == "conv1"
    assert {lat["runtime"] for lat in report["latency"]} == {
        "pytorch eager fp32",
        "onnxruntime fp32",
        "onnxruntime int8",
    }
    assert all(lat["median_us"] > 0 and lat["threads"] >= 1 for lat in report["latency"])
    assert report["fold"]["folded"] == 4 and report["fold"]["kept"] == 1


def test_docs_table_from_report_files(exported: tuple[Path, dict, str], tmp_path: Path) -> None:
    _out, report, _ = exported
    (tmp_path / "v5_seed0.json").write_text(json.dumps(report))
    rst = deploy_rst(tmp_path)
    assert rst.startswith(".. list-table::")
    assert "``v5_seed0``" in rst and "49,280 / 12,320 bytes" in rst
    assert "not yet" in deploy_rst(tmp_path / "empty")
