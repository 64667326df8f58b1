"""The frontier's tables: each goal with the candidate validation chose, and every validation run.

The frontier's protocol (docs page "The frontier"): candidates are declared before they
are scored, trained on the training set less a validation split
(``examples/frontier_validation.py`` writes ``results/frontier/validation.json``), the
best on validation per goal (:data:`FRONTIER_GOALS`) is trained for five seeds on the
whole training set and scored on test once per seed (``tinyconv study``). A candidate is
a recipe at an epoch count: a recipe validated for 15 and for 30 epochs is two
candidates, and only test seeds of the same epoch count stand for it.

:func:`frontier_summary_rst` and :func:`frontier_validation_rst` write the two tables the
documentation shows; the docs build calls them.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyconv.formatting import list_table, percent, percent_spread

__all__ = [
    "FRONTIER_GOALS",
    "FrontierGoal",
    "committed_test_seeds",
    "frontier_summary_rst",
    "frontier_validation_rst",
    "validation_candidates",
]

RESULT_FOLDERS = ("frontier", "search", "fashion", ".", "cpu")
"""Folders under the results root that hold committed studies, searched in this order."""


@dataclass(frozen=True)
class FrontierGoal:
    """One goal of the frontier: a dataset, a parameter limit and a target accuracy.

    Attributes:
        label: How the tables name it.
        dataset: The registered dataset.
        max_params: The parameter limit.
        inclusive: Whether ``max_params`` itself is allowed (``≤``) or not (``<``).
        target: The final-epoch test accuracy to reach (mean over five seeds).

    Example:
        >>> FRONTIER_GOALS[0].admits("mnist", 7811), FRONTIER_GOALS[0].admits("mnist", 8000)
        (True, False)
    """

    label: str
    dataset: str
    max_params: int
    inclusive: bool
    target: float

    def admits(self, dataset: str, params: int) -> bool:
        """Whether a model of ``params`` parameters on ``dataset`` competes for this goal."""
        within = params <= self.max_params if self.inclusive else params < self.max_params
        return dataset == self.dataset and within


FRONTIER_GOALS = (
    FrontierGoal("MNIST, < 8,000 parameters", "mnist", 8000, False, 0.995),
    FrontierGoal("MNIST, ≤ 4,000 parameters", "mnist", 4000, True, 0.994),
    FrontierGoal("MNIST, ≤ 2,000 parameters", "mnist", 2000, True, 0.990),
    FrontierGoal("FashionMNIST, < 8,000 parameters", "fashion_mnist", 8000, False, 0.925),
)
"""The frontier's goals; each is met (or not) by the candidate its validation runs chose."""


def _declared(name: str) -> int:
    """Where recipe ``name`` stands in the order the recipes were declared (JSON files last)."""
    from tinyconv.recipes import RECIPES

    order = list(RECIPES)
    return order.index(name) if name in order else len(order)


def validation_candidates(results: Path) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """The validation runs under ``results/frontier``, by candidate ``(recipe, epochs)``.

    Args:
        results: The results root (``results/``).

    Returns:
        Each candidate's runs (one per seed), in the file's order; empty if none.
    """
    path = results / "frontier" / "validation.json"
    runs = json.loads(path.read_text())["runs"] if path.is_file() else {}
    candidates: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for run in runs.values():
        candidates.setdefault((str(run["recipe"]), int(run["epochs"])), []).append(run)
    return candidates


def committed_test_seeds(results: Path, name: str, epochs: int) -> dict[str, Mapping[str, Any]]:
    """The committed test seeds of recipe ``name`` trained for ``epochs`` epochs.

    Args:
        results: The results root.
        name: The recipe.
        epochs: The epoch count the seeds must have run.

    Returns:
        The seeds of the results file with the most such seeds (none: empty).
    """
    found: dict[str, Mapping[str, Any]] = {}
    for folder in RESULT_FOLDERS:
        path = results / folder / f"{name}.json"
        if path.is_file():
            seeds = json.loads(path.read_text())["seeds"]
            same = {key: seed for key, seed in seeds.items() if seed.get("epochs") == epochs}
            found = same if len(same) > len(found) else found
    return found


def _test_cell(accuracies: list[float]) -> str:
    count = f"{len(accuracies)} seed{'s' if len(accuracies) > 1 else ''}"
    return f"{percent_spread(accuracies)} ({count})"


def frontier_summary_rst(results: Path) -> str:
    """Per goal: the candidate validation chose, and its test seeds if it was scored.

    Args:
        results: The results root.

    Returns:
        An rst list-table.
    """
    candidates = validation_candidates(results)
    header = ["Goal", "Chosen on validation", "Params", "Epochs", "Seeds",
              "Final-epoch test acc. (mean ± std)", "Min", "Seeds ≥ goal",
              "Gap (points)"]  # fmt: skip
    rows: list[list[object]] = []
    for goal in FRONTIER_GOALS:
        fits = [
            (statistics.mean(float(run["final_val_acc"]) for run in runs), key)
            for key, runs in candidates.items()
            if goal.admits(str(runs[0]["dataset"]), int(runs[0]["params"]))
        ]
        row: list[object] = [goal.label]
        if not fits:
            rows.append([*row, "no validation run yet", "", "", "", "", "", "", ""])
            continue
        _, _, (name, epochs) = max(
            (mean, -_declared(key[0]), key) for mean, key in fits
        )  # a tie goes to the recipe declared first
        seeds = committed_test_seeds(results, name, epochs)
        accs = [float(seed["final_test_acc"]) for seed in seeds.values()]
        if not accs:
            rows.append([*row, f"``{name}``", "", epochs, "0", "not scored on test", "", "", ""])
            continue
        params = next(iter(seeds.values()))["params"]
        met = sum(acc >= goal.target for acc in accs)
        row += [f"``{name}``", f"{params:,}", epochs, len(accs), percent_spread(accs)]
        row += [percent(min(accs)), f"{met}/{len(accs)} (≥ {percent(goal.target, 1)})"]
        rows.append([*row, f"{(statistics.mean(accs) - goal.target) * 100:+.2f}"])
    return list_table(header, rows)


def frontier_validation_rst(results: Path) -> str:
    """Every candidate's validation runs, one row each, with its test seeds where scored.

    Args:
        results: The results root.

    Returns:
        An rst list-table (or a sentence if no run is recorded).
    """
    candidates = validation_candidates(results)
    if not candidates:
        return "No validation run is recorded yet.\n"
    header = ["Recipe", "Params", "Epochs", "Seeds", "Final-epoch val. acc.", "Wall time per run",
              "Final-epoch test acc. (where scored)"]  # fmt: skip
    rows: list[list[object]] = []
    for (name, epochs), runs in sorted(candidates.items()):
        accs = [float(run["final_val_acc"]) for run in runs]
        wall = statistics.mean(float(run["wall_seconds"]) for run in runs)
        tests = [
            float(s["final_test_acc"]) for s in committed_test_seeds(results, name, epochs).values()
        ]
        rows.append([
            f"``{name}``", f"{int(runs[0]['params']):,}", epochs, len(runs),
            percent_spread(accs), f"{wall:.0f} s", _test_cell(tests) if tests else "not scored",
        ])  # fmt: skip
    return list_table(header, rows)
