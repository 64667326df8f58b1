"""The frontier's tables: a candidate is a recipe at an epoch count, chosen on validation."""

from __future__ import annotations

import json
from pathlib import Path

from tinyconv.study.frontier_tables import (
    FRONTIER_GOALS,
    committed_test_seeds,
    frontier_summary_rst,
    frontier_validation_rst,
    validation_candidates,
)


def run(recipe: str, dataset: str, params: int, epochs: int, val: float) -> dict[str, object]:
    return {"recipe": recipe, "dataset": dataset, "params": params, "epochs": epochs,
            "final_val_acc": val, "wall_seconds": 10.0}  # fmt: skip


def study(folder: Path, name: str, epochs: int, accs: list[float], params: int) -> None:
    seeds = {str(s): {"final_test_acc": a, "epochs": epochs, "params": params}
             for s, a in enumerate(accs)}  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({"seeds": seeds}))


def results_root(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    runs = {
        "wide_e15/seed0": run("wide", "mnist", 7811, 15, 0.9928),
        "wide_e30/seed0": run("wide", "mnist", 7811, 30, 0.9940),  # best, but never tested
        "small_e15/seed0": run("small", "mnist", 1980, 15, 0.9866),
        "cloth_e30/seed0": run("cloth", "fashion_mnist", 7811, 30, 0.9164),
    }
    (root / "frontier").mkdir(parents=True)
    (root / "frontier" / "validation.json").write_text(json.dumps({"runs": runs}))
    study(root / "frontier", "wide", 15, [0.9944, 0.9950], 7811)
    study(root / "frontier", "small", 15, [0.9903, 0.9909, 0.9907], 1980)
    study(root / "fashion", "cloth", 30, [0.9159, 0.9157], 7811)
    return root


def test_a_candidate_is_a_recipe_at_an_epoch_count(tmp_path: Path) -> None:
    root = results_root(tmp_path)
    assert set(validation_candidates(root)) == {
        ("wide", 15),
        ("wide", 30),
        ("small", 15),
        ("cloth", 30),
    }
    assert len(committed_test_seeds(root, "wide", 15)) == 2
    assert committed_test_seeds(root, "wide", 30) == {}  # 15-epoch seeds do not stand for it
    table = frontier_validation_rst(root)
    assert sum(line.strip().startswith("* - ``") for line in table.splitlines()) == 4
    assert "99.47 % ± 0.04 (2 seeds)" in table and table.count("not scored") == 1


def test_each_goal_shows_the_candidate_validation_chose_and_its_gap(tmp_path: Path) -> None:
    table = frontier_summary_rst(results_root(tmp_path))
    blocks = table.split("* - ")[1:]
    assert len(blocks) == len(FRONTIER_GOALS) + 1  # the header row first
    by_goal = {block.splitlines()[0]: block for block in blocks[1:]}
    under_8k = by_goal["MNIST, < 8,000 parameters"]
    assert "``wide``" in under_8k and "not scored on test" in under_8k  # wide at 30 epochs won
    assert "``small``" in by_goal["MNIST, ≤ 4,000 parameters"]  # 1,980 fits under 4,000 too
    assert "+0.06" in by_goal["MNIST, ≤ 2,000 parameters"]  # 99.06 % against 99.0 %
    fashion = by_goal["FashionMNIST, < 8,000 parameters"]
    assert "91.58 % ± 0.01" in fashion and "0/2" in fashion and "-0.92" in fashion


def test_a_tie_on_validation_goes_to_the_recipe_declared_first(tmp_path: Path) -> None:
    root = tmp_path / "results"
    runs = {  # declared in this order in tinyconv/recipes/frontier.py
        "b/seed0": run("mnist_wide_shift", "mnist", 7811, 15, 0.9928),
        "a/seed0": run("mnist_wide_onecycle", "mnist", 7811, 15, 0.9928),
    }
    (root / "frontier").mkdir(parents=True)
    (root / "frontier" / "validation.json").write_text(json.dumps({"runs": runs}))
    study(root / "frontier", "mnist_wide_onecycle", 15, [0.9944, 0.9950], 7811)
    under_8k = frontier_summary_rst(root).split("* - ")[2]
    assert "``mnist_wide_onecycle``" in under_8k and "99.47 %" in under_8k
