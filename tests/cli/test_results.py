"""``tinyconv results`` in a real subprocess: one error line and exit 2 on a bad path or a
README without markers, a table for a single results file (the README's tables are
checked against the generated ones in tests/study/test_tables.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tinyconv(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinyconv", "results", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_a_missing_path_is_one_error_line(tmp_path: Path) -> None:
    """An empty folder is the same error (tests/study/test_tables.py covers it in-process)."""
    done = tinyconv(str(tmp_path / "missing"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert str(tmp_path / "missing") in done.stderr


def test_a_single_results_file_gives_its_row_with_epochs_and_training_images() -> None:
    done = tinyconv("results/cpu/mnist_v5.json")
    assert done.returncode == 0, done.stderr
    header, _, row = done.stdout.splitlines()
    assert header.startswith("| Recipe | Params | Epochs | Training images | Seeds |")
    assert row.startswith("| mnist_v5 | 6,364 | 15 | 60,000 | 5 |")


def test_readme_without_markers_is_one_error_line_and_stays_untouched(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no markers here\n")
    done = tinyconv("results/fashion", "--readme", str(readme), "--marker", "fashion")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "<!-- fashion:begin -->" in done.stderr
    assert readme.read_text() == "# no markers here\n"
