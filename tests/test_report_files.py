from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinyconv.errors import ReportFileError
from tinyconv.export.onnx_report import load_report
from tinyconv.export.tflite_report import load_tflite_report
from tinyconv.mcu import load_mcu_report
from tinyconv.report_files import read_report, reports_in

REPO = Path(__file__).resolve().parents[1]


def test_each_loader_refuses_another_kind_of_report_and_a_broken_file(tmp_path: Path) -> None:
    mcu_report = REPO / "results" / "mcu" / "mnist_4k_onecycle.cortex-m4.json"
    assert load_mcu_report(mcu_report)["format"] == "tinyconv.mcu_report"
    with pytest.raises(ReportFileError, match=r"is not a tinyconv export report"):
        load_report(mcu_report)
    with pytest.raises(ReportFileError, match=r"is not a tinyconv \.tflite export report"):
        load_tflite_report(mcu_report)
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "tinyconv.mcu_report",')
    with pytest.raises(ReportFileError, match="cannot read the microcontroller report"):
        load_mcu_report(broken)
    with pytest.raises(ValueError):  # a ReportFileError is a ValueError, as before
        load_mcu_report(tmp_path / "missing.json")


def test_reports_in_finds_one_kind_and_skips_other_json(tmp_path: Path) -> None:
    kind = "tinyconv.example_report"
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.json").write_text(json.dumps({"format": kind, "n": 1}))
    (tmp_path / "sub" / "b.json").write_text(json.dumps({"format": kind, "n": 2}))
    (tmp_path / "names_it.json").write_text(json.dumps({"note": kind}))  # mentions, is not one
    (tmp_path / "list.json").write_text(json.dumps([kind]))
    assert [data["n"] for _, data in reports_in(tmp_path, kind)] == [1]
    found = reports_in(tmp_path, kind, recursive=True)
    assert [path.relative_to(tmp_path).as_posix() for path, _ in found] == ["a.json", "sub/b.json"]
    assert read_report(tmp_path / "a.json", kind, "example report")["n"] == 1
