"""Results tables come from the results files; the README's tables are the generated ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinyconv.study import ResultsFileError
from tinyconv.study.tables import (
    BEGIN,
    END,
    HEADER,
    MarkersError,
    replace_between_markers,
    results_markdown,
    results_rows,
    results_rst,
    write_table,
)

REPO = Path(__file__).resolve().parents[2]


def write_results(
    folder: Path,
    name: str,
    finals: list[float],
    *,
    dataset: str = "mnist",
    epochs: int = 15,
    train_samples: int | None = None,
) -> Path:
    """A results file as tinyconv wrote them before format 2 (no digest)."""
    seeds = {
        str(seed): {
            "seed": seed,
            "final_test_acc": acc,
            "best_test_acc": acc + 0.001,
            "final_train_acc": 0.99,
            "wall_seconds": 30.0,
            "params": 5893,
            "device_name": "cpu",
            **({} if train_samples is None else {"train_samples": train_samples}),
        }
        for seed, acc in enumerate(finals)
    }
    path = folder / f"{name}.json"
    recipe = {"name": name, "dataset": dataset}
    path.write_text(json.dumps({"recipe": recipe, "epochs": epochs, "seeds": seeds}))
    return path


def test_rows_markdown_and_rst(tmp_path: Path) -> None:
    write_results(tmp_path, "b_recipe", [0.994, 0.996], train_samples=60000)
    write_results(tmp_path, "a_recipe", [0.990])
    rows = results_rows(tmp_path)
    assert [row[0] for row in rows] == ["a_recipe", "b_recipe"]
    assert rows[1][1:8] == (
        "5,893", "15", "60,000", "2", "99.50 % ± 0.14", "99.40 %", "2/2 (≥ 99.4 %)"
    )  # fmt: skip
    assert rows[0][3] == "not recorded"  # files written before the count was kept
    markdown = results_markdown(tmp_path).splitlines()
    assert markdown[0] == "| " + " | ".join(HEADER) + " |" and len(markdown) == 4
    rst = results_rst(tmp_path)
    assert rst.startswith(".. list-table::") and "     - 99.50 % ± 0.14" in rst


def test_a_short_run_never_reads_as_a_full_one(tmp_path: Path) -> None:
    """Issue 21 point 3: epochs and training images are columns of their own."""
    write_results(tmp_path, "v5_train5000", [0.95], epochs=2, train_samples=5000)
    (row,) = results_rows(tmp_path)
    assert dict(zip(HEADER, row, strict=True))["Epochs"] == "2"
    assert dict(zip(HEADER, row, strict=True))["Training images"] == "5,000"


def test_each_row_counts_hits_against_its_own_dataset_s_target(tmp_path: Path) -> None:
    write_results(tmp_path, "fashion", [0.93, 0.92], dataset="fashion_mnist")
    write_results(tmp_path, "mnist", [0.993], dataset="mnist")
    rows = {row[0]: dict(zip(HEADER, row, strict=True)) for row in results_rows(tmp_path)}
    assert rows["fashion"]["Seeds ≥ target"] == "1/2 (≥ 92.5 %)"
    assert rows["mnist"]["Seeds ≥ target"] == "0/1 (≥ 99.4 %)"


def test_a_single_results_file_is_a_table_of_one_row(tmp_path: Path) -> None:
    path = write_results(tmp_path, "only", [0.99])
    write_results(tmp_path, "other", [0.98])
    assert [row[0] for row in results_rows(path)] == ["only"]


def test_missing_and_empty_paths_are_errors_not_empty_tables(tmp_path: Path) -> None:
    with pytest.raises(ResultsFileError, match=r"no results file or folder at .*nowhere"):
        results_rows(tmp_path / "nowhere")
    with pytest.raises(ResultsFileError, match="holds no results files"):
        results_rows(tmp_path)
    (tmp_path / "best.json").write_text(json.dumps({"name": "a recipe, not results"}))
    with pytest.raises(ResultsFileError, match="holds no results files"):
        results_rows(tmp_path)
    write_results(tmp_path, "started", [])
    with pytest.raises(ResultsFileError, match="no finished seed"):
        results_rows(tmp_path)


def test_replace_between_markers() -> None:
    text = f"intro\n{BEGIN}\nold table\n{END}\noutro\n"
    assert replace_between_markers(text, "new") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    with pytest.raises(MarkersError, match="markers"):
        replace_between_markers("no markers here", "new")


def test_write_table_refuses_a_missing_file_or_markers_and_leaves_the_file(
    tmp_path: Path,
) -> None:
    with pytest.raises(MarkersError, match="no file at"):
        write_table(tmp_path / "README.md", "table")
    readme = tmp_path / "README.md"
    readme.write_text("no markers\n")
    with pytest.raises(MarkersError, match=r"README.md: no <!-- cpu:begin -->"):
        write_table(readme, "table", "cpu")
    assert readme.read_text() == "no markers\n"
    readme.write_text(f"a\n{BEGIN}\n{END}\n")
    write_table(readme, "| t |")
    assert readme.read_text() == f"a\n{BEGIN}\n| t |\n{END}\n"


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("results", "results"),
        ("cpu", "results/cpu"),
        ("fashion", "results/fashion"),
        ("frontier", "results/frontier"),
    ],
)
def test_readme_tables_are_the_generated_ones(name: str, folder: str) -> None:
    readme = (REPO / "README.md").read_text()
    expected = replace_between_markers(readme, results_markdown(REPO / folder), name)
    assert readme == expected, "README table is stale: run make results-table"
