"""The .tflite export refuses what it cannot verify, says what stayed float, and stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import tinyconv
from tinyconv import ConvSpec, GAPHeadSpec
from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.errors import OutputExistsError, OutputPathError
from tinyconv.export import export_tflite
from tinyconv.export.errors import VerificationError
from tinyconv.export.tflite_graph import TensorQuantization, quantize_input
from tinyconv.train import TrainConfig, fit


@pytest.fixture(scope="module")
def silu_net(mnist_train: ImageDataset) -> tinyconv.TinyNet:
    """SiLU, which litert-torch's quantizer leaves float; one quick epoch on real images."""
    model = tinyconv.build(
        [ConvSpec(out_channels=4, activation="silu"), GAPHeadSpec(num_classes=10)], seed=0
    )
    loader = TensorLoader(mnist_train.subset(list(range(500))), 50, shuffle=True, seed=0)
    config = TrainConfig(epochs=1, batch_size=50, optimizer="adam", lr=0.01, progress=False)
    fit(model, loader, config)
    model.eval()
    model.dataset = "mnist"
    return model


def test_report_says_which_operators_stayed_float(
    silu_net: tinyconv.TinyNet, mnist_root: Path, tmp_path: Path
) -> None:
    report = export_tflite(
        silu_net,
        tmp_path,
        data_root=mnist_root,
        calibration_images=100,
        test_images=100,
        micro_images=20,
        max_int8_drop_points=100,  # an untuned one-epoch net: this test is about float ops
    )
    assert report.float_ops[:2] == [
        "LOGISTIC(FLOAT32 -> FLOAT32)",
        "MUL(FLOAT32, FLOAT32 -> FLOAT32)",
    ]
    assert report.kept_batchnorms == []  # its BatchNorm folded into the head
    assert "Float ops in the int8 file: LOGISTIC" in str(report)
    saved = json.loads((tmp_path / "model.tflite.json").read_text())
    assert saved["float_ops"] == report.float_ops


def test_a_file_that_fails_verification_is_not_written(
    silu_net: tinyconv.TinyNet, mnist_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinyconv.export import tflite_target
    from tinyconv.export.int8_drop import Int8Drop

    # the verdict of a real int8 drop (60 images lost, 10 gained of 100): over the limit,
    # one image and the noise; the drop rule itself is tested in test_int8_drop.py
    verdict = Int8Drop(images=100, lost=60, gained=10, limit_points=0.10)
    monkeypatch.setattr(tflite_target, "int8_drop", lambda *args: verdict)
    out = tmp_path / "out"
    with pytest.raises(VerificationError, match=r"points \(60 - 10 = 50 of 100 images.*no file"):
        export_tflite(
            silu_net,
            out,
            data_root=mnist_root,
            calibration_images=100,
            test_images=100,
            micro_images=20,
        )
    assert not out.exists()


def test_an_existing_output_is_never_overwritten(
    silu_net: tinyconv.TinyNet, mnist_root: Path, tmp_path: Path
) -> None:
    (tmp_path / "model.tflite").write_bytes(b"mine")
    with pytest.raises(OutputExistsError, match=r"holds 1 file\(s\) \(model.tflite\).*--overwrite"):
        export_tflite(silu_net, tmp_path, data_root=mnist_root)
    (tmp_path / "notes.txt").write_text("not an export file")
    with pytest.raises(OutputPathError, match=r"also holds notes.txt; give another --out"):
        export_tflite(silu_net, tmp_path, data_root=mnist_root, overwrite=True)
    assert (tmp_path / "model.tflite").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tflite", "notes.txt"]


def test_missing_extra_is_one_error_line(v5_file: Path, tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['litert_torch'] = None\n"
        "from tinyconv.cli import main\n"
        f"sys.exit(main(['export', {str(v5_file)!r}, '--format', 'tflite', '--out', "
        f"{str(tmp_path / 'out')!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "pip install 'tinyconv[tflite]'" in lines[0]
    assert not (tmp_path / "out").exists()


def test_import_loads_none_of_the_extra() -> None:
    code = (
        "import sys, tinyconv, tinyconv.export\n"
        "heavy = ('litert_torch', 'ai_edge_litert', 'tflite_micro', 'torchao')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@given(
    values=st.lists(st.floats(-50, 50, allow_nan=False, width=32), min_size=1, max_size=64),
    scale=st.floats(1e-3, 1.0),
    zero_point=st.integers(-128, 127),
)
def test_quantize_input_rounds_to_the_nearest_step_inside_the_range(
    values: list[float], scale: float, zero_point: int
) -> None:
    quant = TensorQuantization("INT8", (1, 1, 1, len(values)), scale, zero_point)
    x = np.array(values, dtype=np.float32).reshape(1, 1, 1, -1)
    q = quantize_input(torch.from_numpy(x), quant)
    assert q.dtype == np.int8
    back = scale * (q.astype(np.float64) - zero_point)
    low, high = scale * (-128 - zero_point), scale * (127 - zero_point)
    inside = (x >= low) & (x <= high)
    assert np.all(np.abs(back - x)[inside] <= scale / 2 + 1e-6 * (1 + np.abs(x[inside])))
    assert np.all(q[x < low] == -128) and np.all(q[x > high] == 127)
    assert np.all(np.diff(q.ravel()[np.argsort(x.ravel(), kind="stable")].astype(int)) >= 0)
