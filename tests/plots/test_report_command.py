from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinyconv.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
V5_RESULTS = REPO_ROOT / "results" / "mnist_v5.json"


def tinyconv(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinyconv", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        timeout=120,
    )


def in_process(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the command in this process (no interpreter start-up: torch is already loaded)."""
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def img_sources(index: Path) -> list[str]:
    """The file names of the figures the page shows (each embedded, and beside it as a PNG)."""
    page = index.read_text()
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert all(source.startswith("data:image/png;base64,") for source in sources), sources
    return re.findall(r'data-file="([^"]+)"', page)


def test_import_tinyconv_does_not_import_matplotlib() -> None:
    code = "import sys, tinyconv, tinyconv.cli; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_report_of_a_results_file_without_model_files(tmp_path: Path) -> None:
    result = tinyconv("report", str(V5_RESULTS.relative_to(REPO_ROOT)), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    index = tmp_path / "index.html"
    assert img_sources(index) == ["learning_curves.png"]
    assert (tmp_path / "learning_curves.png").read_bytes().startswith(b"\x89PNG")
    page = index.read_text()
    assert "99.39 % ± 0.07" in page  # results/mnist_v5.json: final-epoch mean ± std
    assert "6,364" in page and "tinyconv report results/mnist_v5.json --out" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "href=" not in page and 'src="learning' not in page  # nothing loaded from beside it
    assert "No model files beside" in result.stderr


@pytest.mark.mnist
def test_report_of_a_model_file_scores_its_test_set(
    tiny_model_file: Path, mnist_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = in_process(
        "report", str(tiny_model_file), "--out", str(tmp_path), "--data-dir", str(mnist_root),
        capsys=capsys,
    )  # fmt: skip
    assert status == 0, err
    assert img_sources(tmp_path / "index.html") == [
        "budget.png",
        "confusion.png",
        "misclassified.png",
        "se_gates.png",
    ]
    page = (tmp_path / "index.html").read_text()
    assert "on 10,000 MNIST test images" in page and "1,272" in page


@pytest.mark.mnist
def test_report_finds_model_files_beside_a_results_file(
    tiny_model_file: Path, mnist_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    (results / "mnist_v5").mkdir(parents=True)
    shutil.copy(V5_RESULTS, results / "mnist_v5.json")
    shutil.copy(tiny_model_file, results / "mnist_v5" / "seed0.model.pt")
    out = tmp_path / "report"
    status, _, err = in_process(
        "report", str(results / "mnist_v5.json"), "--out", str(out), "--data-dir", str(mnist_root),
        capsys=capsys,
    )  # fmt: skip
    assert status == 0, err
    assert img_sources(out / "index.html") == [
        "learning_curves.png",
        "budget.png",
        "confusion.png",
        "misclassified.png",
        "se_gates.png",
    ]
    assert "it is not a model of these runs" in err  # 1,272 params, not 6,364


@pytest.mark.mnist
def test_bad_inputs_fail_with_one_line_naming_the_fix(
    tiny_model_file: Path, fashion_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "mnist_v9.json"
    empty.write_text(json.dumps({"recipe": {"name": "mnist_v9"}, "epochs": 15, "seeds": {}}))
    cases = {
        "no finished seed": ("report", str(empty), "--out", str(tmp_path / "a")),
        "trained on 'mnist' but the images are 'fashion_mnist'": (
            "report", str(tiny_model_file), "--out", str(tmp_path / "b"),
            "--data-dir", str(fashion_root), "--dataset", "fashion_mnist",
        ),
        "no file at": ("report", str(tmp_path / "nothing.json"), "--out", str(tmp_path / "c")),
    }  # fmt: skip
    for expected, args in cases.items():
        if expected == "no finished seed":  # one through a real process, the rest in this one
            result = tinyconv(*args)
            status, err = result.returncode, result.stderr
        else:
            status, _, err = in_process(*args, capsys=capsys)
        assert status == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines


def test_missing_plots_extra_names_the_extra(tmp_path: Path) -> None:
    blocker = tmp_path / "matplotlib"  # a package that fails to import, as if not installed
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib is not installed')\n")
    result = tinyconv(
        "report", str(V5_RESULTS), "--out", str(tmp_path / "out"),
        env={"PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: this needs matplotlib, which is not installed; install the optional extra "
        "with pip install 'tinyconv[plots]'"
    )
