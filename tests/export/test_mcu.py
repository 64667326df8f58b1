"""``tinyconv mcu``: a trained model in Cortex-M firmware with CMSIS-NN, on an emulated core.

The whole loop runs once (a real subprocess, the Arm toolchain, QEMU and TFLite Micro's
library cached per core): the V5-like model of conftest.py from its model file to a
firmware run on an emulated Cortex-M4 over real MNIST test images; the tests read what
it wrote and check it against the host. Without the toolchain or the TFLite Micro
sources the loop is skipped with the reason (a failure under CI, which installs both);
the refusals run everywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyconv.export.tflite_graph import tflite_ops
from tinyconv.mcu import CORES, McuError, load_mcu_report, run_on_mcu

MCU_IMAGES = 200
REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "qemu-system-arm")


def _tflm() -> str | None:
    given = os.environ.get("TINYCONV_TFLM")
    if given:
        return given
    bundled = sorted((REPO_ROOT.parent / "shared" / "vendor").glob("tflite-micro-*.tar.xz"))
    return str(bundled[-1]) if bundled else None


@pytest.fixture(scope="module")
def tflm() -> str:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    sources = _tflm()
    if missing or sources is None:
        reason = f"missing {', '.join(missing)}" if missing else "no TFLite Micro sources"
        message = (
            f"{reason}: the microcontroller loop needs the Arm toolchain, QEMU and TINYCONV_TFLM"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return sources


def tinyconv(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tinyconv", *argv],
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )


@pytest.fixture(scope="module")
def ran(
    v5_file: Path, mnist_root: Path, tflm: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("mcu") / "m4"
    result = tinyconv(
        "mcu", str(v5_file), "--cpu", "cortex-m4", "--out", str(out), "--images",
        str(MCU_IMAGES), "--data-dir", str(mnist_root), "--tflm-dir", tflm, "--prefix", "digits",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out, load_mcu_report(out / "v5.cortex-m4.mcu.json"), result.stdout


def test_one_command_writes_the_report_image_and_c_files(ran: tuple[Path, dict, str]) -> None:
    out, report, printed = ran
    names = sorted(p.name for p in out.iterdir())
    for name in ("v5.cortex-m4.mcu.json", "v5.cortex-m4.elf", "v5.cortex-m4.map"):
        assert name in names
    assert "v5.int8.tflite" in names and "v5_model.h" in names  # exported on the way
    assert report["core"]["machine"] == "mps2-an386"
    assert "an estimate" in printed and f"{MCU_IMAGES:,} images" in printed
    for key in ("tinyconv_version", "git_commit", "arm-none-eabi-gcc", "qemu-system-arm"):
        assert key in report["environment"]


def test_cmsis_nn_on_the_emulated_core_computes_what_the_reference_kernels_compute(
    ran: tuple[Path, dict, str],
) -> None:
    _, report, _ = ran
    parity, accuracy = report["parity"], report["accuracy"]
    assert parity["images"] == accuracy["images"] == MCU_IMAGES
    assert parity["argmax_agreement"] >= 0.99
    assert parity["max_steps"] <= 2
    assert accuracy["mcu_int8"] > 0.7  # the one-epoch model scores about 85 %
    agreeing = parity["argmax_agreement"] == 1.0
    assert not agreeing or accuracy["mcu_int8"] == accuracy["host_reference_int8"]


def test_instructions_are_counted_exactly_and_per_operator_in_graph_order(
    ran: tuple[Path, dict, str],
) -> None:
    out, report, _ = ran
    ins = report["instructions"]
    calibration = ins["calibration"]
    assert calibration["measured"] == calibration["expected"] == 2_000_000
    assert calibration["instructions_per_tick"] == 40  # 1 ns per instruction, 25 MHz SysTick
    assert ins["min"] <= ins["mean"] <= ins["max"]
    assert ins["max"] - ins["min"] < 0.01 * ins["mean"]  # int8 kernels barely branch on data
    ops = [op.name for op in tflite_ops((out / "v5.int8.tflite").read_bytes())]
    assert [op["operator"] for op in ins["per_operator"]] == ops
    in_operators = sum(op["instructions"] for op in ins["per_operator"])
    assert 0.9 * ins["mean"] < in_operators <= ins["mean"]
    assert report["estimate"]["ms"] == pytest.approx(ins["mean"] / (64.0 * 1e3))


def test_flash_and_ram_come_from_the_linked_image_and_the_target(
    ran: tuple[Path, dict, str],
) -> None:
    out, report, _ = ran
    flash, ram = report["flash"], report["ram"]
    assert flash["model"] == len((out / "v5.int8.tflite").read_bytes())
    parts = ("model", "tflite_micro", "c_runtime", "harness", "other")
    assert sum(flash[part] for part in parts) == flash["total"]
    assert abs(flash["other"]) < 0.01 * flash["total"]
    assert 20_000 < flash["tflite_micro"] < 200_000
    exported = json.loads((out / "v5.tflite.json").read_text())
    host_arena = exported["arena"]["int8"]
    # the same activations as on the host; a 32-bit core's runtime structures are smaller
    assert host_arena["activation_bytes"] < ram["arena"] <= host_arena["total_bytes"]
    assert 0 < ram["stack"] < 16_384
    assert ram["total"] == ram["arena"] + ram["static"] + ram["stack"]


def test_the_symbol_prefix_names_the_model_array(ran: tuple[Path, dict, str]) -> None:
    out, _, _ = ran
    header = (out / "v5_model.h").read_text()
    assert "extern const unsigned char digits_tflite[];" in header
    assert "#define DIGITS_ARENA_BYTES" in header
    names = ", ".join(f'"{digit}"' for digit in range(10))
    assert f"static const char *const digits_class_names[10] = {{{names}}};" in header


def test_a_float_tflite_is_refused_and_nothing_is_written(
    ran: tuple[Path, dict, str], tflm: str, tmp_path: Path
) -> None:
    out, _, _ = ran
    target = tmp_path / "float"
    result = tinyconv("mcu", str(out / "v5.tflite"), "--out", str(target), "--tflm-dir", tflm)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "--int8" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_a_missing_toolchain_is_one_line_naming_the_packages(v5_file: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bin"  # python only: no Arm compiler, no QEMU
    bare.mkdir()
    (bare / "python3").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(bare)}
    target = tmp_path / "out"
    result = tinyconv("mcu", str(v5_file), "--out", str(target), env=env)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert line.startswith("error: arm-none-eabi-gcc") and "\n" not in line
    assert "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi" in line
    assert not target.exists()


def test_missing_sources_model_or_options_are_refused_before_any_work(
    v5_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TINYCONV_TFLM", raising=False)
    target = tmp_path / "out"
    has_tools = all(shutil.which(tool) for tool in TOOLS)
    cases = [
        ({"tflm": tmp_path / "absent.tar.xz"}, "no TFLite Micro checkout or archive at"),
        ({"tflm": tmp_path}, "is not a TFLite Micro checkout"),
        ({}, "no TFLite Micro sources; give --tflm-dir"),
    ]
    for options, expected in cases:  # the toolchain is looked for first
        with pytest.raises(McuError, match=expected if has_tools else "arm-none-eabi"):
            run_on_mcu(v5_file, target, **options)
    for model, options, expected in (
        (tmp_path / "absent.tflite", {}, "no file at"),
        (v5_file, {"images": 0}, "images must be >= 1"),
        (v5_file, {"clock_mhz": -1.0}, "clock_mhz must be a positive number"),
    ):
        with pytest.raises(McuError, match=expected):
            run_on_mcu(model, target, **options)
    assert not target.exists()
    env = {k: v for k, v in os.environ.items() if k != "TINYCONV_TFLM"}  # the command line
    result = tinyconv("mcu", str(v5_file), "--out", str(target), env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_an_unknown_core_is_refused_by_name() -> None:
    with pytest.raises(McuError, match="unknown core 'cortex-m0'; choose one of"):
        run_on_mcu("model.tflite", "out", cpu="cortex-m0")
    assert set(CORES) == {"cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33"}
    result = tinyconv("mcu", "m.tflite", "--out", "x", "--cpu", "cortex-m0")
    assert result.returncode == 2 and "invalid choice: 'cortex-m0'" in result.stderr


def test_the_report_names_no_time_without_calling_it_an_estimate(
    ran: tuple[Path, dict, str],
) -> None:
    _, report, _ = ran
    assert "estimate" in report["estimate"]["assumes"]
    assert np.isfinite(report["estimate"]["ms"])
