"""Results tables come from the JSON files; the README's table is the generated one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tinyconv.study.report import (
    BEGIN,
    END,
    HEADER,
    replace_between_markers,
    results_markdown,
    results_rows,
    results_rst,
)

REPO = Path(__file__).resolve().parents[2]


def write_results(folder: Path, name: str, finals: list[float]) -> None:
    seeds = {
        str(seed): {
            "final_test_acc": acc,
            "best_test_acc": acc + 0.001,
            "final_train_acc": 0.99,
            "wall_seconds": 30.0,
            "params": 5893,
            "device_name": "cpu",
        }
        for seed, acc in enumerate(finals)
    }
    (folder / f"{name}.json").write_text(json.dumps({"seeds": seeds}))


def test_rows_markdown_and_rst(tmp_path: Path) -> None:
    write_results(tmp_path, "b_recipe", [0.994, 0.996])
    write_results(tmp_path, "a_recipe", [0.990])
    rows = results_rows(tmp_path)
    assert [row[0] for row in rows] == ["a_recipe", "b_recipe"]
    assert rows[1][1:6] == ("5,893", "2", "99.50 % ± 0.14", "99.40 %", "2/2 (≥ 99.4 %)")
    markdown = results_markdown(tmp_path).splitlines()
    assert markdown[0] == "| " + " | ".join(HEADER) + " |" and len(markdown) == 4
    rst = results_rst(tmp_path)
    assert rst.startswith(".. list-table::") and "     - 99.50 % ± 0.14" in rst


def test_replace_between_markers() -> None:
    text = f"intro\n{BEGIN}\nold table\n{END}\noutro\n"
    assert replace_between_markers(text, "new") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    with pytest.raises(ValueError, match="markers"):
        replace_between_markers("no markers here", "new")


@pytest.mark.parametrize(
    ("name", "folder"),
    [("results", "results"), ("cpu", "results/cpu"), ("fashion", "results/fashion")],
)
def test_readme_tables_are_the_generated_ones(name: str, folder: str) -> None:
    readme = (REPO / "README.md").read_text()
    expected = replace_between_markers(readme, results_markdown(REPO / folder), name)
    assert readme == expected, "README table is stale: run make results-table"
