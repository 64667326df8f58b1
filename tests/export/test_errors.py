"""Bad input: one clear error naming the fix, on the command line as one line, and no output
files left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import tinyconv
from tinyconv import ConvSpec, GAPHeadSpec
from tinyconv.errors import OutputPathError
from tinyconv.export import ExportError, export_model
from tinyconv.export.errors import CalibrationDataError, UntrainedModelError
from tinyconv.export.quantize import check_calibration_images

REPO = Path(__file__).resolve().parents[2]


def tinyconv_cli(*argvs: list[str], prelude: str = "") -> list[tuple[int, str]]:
    """Run ``tinyconv`` once per argv in one fresh process; return (status, stderr) each."""
    code = (
        f"{prelude}\nimport contextlib, io, json, sys\nfrom tinyconv.cli import main\n"
        "results = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    err = io.StringIO()\n"
        "    with contextlib.redirect_stderr(err):\n"
        "        results.append([main(argv), err.getvalue()])\n"
        "print(json.dumps(results))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argvs)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return [(status, err) for status, err in json.loads(result.stdout.strip().splitlines()[-1])]


def assert_one_line_error(result: tuple[int, str], *needles: str) -> None:
    status, stderr = result
    assert status == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_import_tinyconv_does_not_import_onnx() -> None:
    code = (
        "import sys, tinyconv, tinyconv.export\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in "
        "('onnx', 'onnxscript', 'onnxruntime', 'torchao')]\n"
        "print(loaded)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_cli_bad_inputs_are_one_line_errors(tmp_path: Path, mnist_root: Path) -> None:
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a model at all")
    fresh = tmp_path / "fresh.model.pt"
    tinyconv.save(tinyconv.build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=10)]), fresh)
    # a model for 32x32 inputs (no BatchNorm, so it passes the training check) meets 28x28 MNIST
    big = tmp_path / "big.model.pt"
    model = tinyconv.build(
        [ConvSpec(out_channels=4, norm=False), GAPHeadSpec(num_classes=10)], input_size=(32, 32)
    )
    tinyconv.save(model.eval(), big, dataset="mnist")
    out = tmp_path / "out"
    common = ["--out", str(out), "--int8", "--data-dir", str(mnist_root)]
    missing, broken, untrained, wrong_shape = tinyconv_cli(
        ["export", str(tmp_path / "nope.pt"), *common],
        ["export", str(corrupt), *common],
        ["export", str(fresh), *common],
        ["export", str(big), *common],
    )
    assert_one_line_error(missing, "no model file at", "nope.pt", "check the path")
    assert_one_line_error(broken, "corrupt", "tinyconv.save")
    assert_one_line_error(untrained, "conv1.norm has never seen a batch", "train it first")
    assert_one_line_error(
        wrong_shape, "expects images of shape (1, 32, 32) but 'mnist' has (1, 28, 28)"
    )
    assert not out.exists()  # no output at all, not even the folder


def test_cli_missing_export_extra(tmp_path: Path) -> None:
    path = tmp_path / "any.pt"  # the extra is checked before the model is read
    blocked = "import sys\nsys.modules['onnxruntime'] = None  # as if not installed"
    (result,) = tinyconv_cli(["export", str(path), "--out", str(tmp_path)], prelude=blocked)
    assert_one_line_error(result, "pip install 'tinyconv[export]'", "onnxruntime")


def test_train_mode_model_is_refused(trained_v5: tinyconv.TinyNet, tmp_path: Path) -> None:
    trained_v5.train()
    try:
        with pytest.raises(UntrainedModelError, match=r"is in training mode.*model\.eval\(\)"):
            export_model(trained_v5, tmp_path / "out")
    finally:
        trained_v5.eval()
    assert not (tmp_path / "out").exists()


def test_wrong_calibration_tensors(trained_v5: tinyconv.TinyNet, tmp_path: Path) -> None:
    with pytest.raises(CalibrationDataError, match=r"add the channel dimension"):
        export_model(trained_v5, tmp_path / "out", calibration_images=torch.zeros(8, 28, 28))
    with pytest.raises(CalibrationDataError, match=r"must be float and normalised"):
        check_calibration_images(torch.zeros(8, 1, 28, 28, dtype=torch.uint8), (1, 28, 28))
    with pytest.raises(CalibrationDataError, match=r"NaN"):
        check_calibration_images(torch.full((2, 1, 28, 28), float("nan")), (1, 28, 28))
    assert not (tmp_path / "out").exists()


def test_not_a_tinynet_and_out_is_a_file(trained_v5: tinyconv.TinyNet, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="needs a TinyNet"):
        export_model(torch.nn.Conv2d(1, 1, 1).eval(), tmp_path / "out")
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(OutputPathError, match="is a file; give a folder"):
        export_model(trained_v5, afile)
    assert afile.read_text() == "x"
