"""The accuracy frontier in deployable units: test accuracy beside Cortex-M4 costs.

A microcontroller engineer chooses by flash, RAM and time per inference, not by
parameters. :func:`deployable_points` puts each committed study's final-epoch test
accuracies (mean over seeds) beside its model's costs on a Cortex-M4 with TFLite Micro
and CMSIS-NN: **measured** by ``tinyconv mcu`` where a report of that architecture is
under ``results/mcu`` (matched by architecture, since weights do not change the costs),
else **estimated** (:func:`tinyconv.device_estimate.estimate_device`) and marked so.
:func:`deployable_rst` renders them as a table with the Pareto fronts marked and the
device goals answered: the most accurate model in 16 KB of arena and 32 KB of model
flash, and the fastest at 99.4 % or more.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyconv.device_estimate import estimate_device
from tinyconv.formatting import list_table, percent
from tinyconv.mcu.cores import CORES
from tinyconv.mcu.report import MCU_REPORT_FORMAT
from tinyconv.model_file import load
from tinyconv.plots.frontier import AccuracyPoint, pareto_front_labels, point_from_results
from tinyconv.recipe import Recipe
from tinyconv.report_files import reports_in

__all__ = [
    "DeployablePoint",
    "architecture_key",
    "deployable_points",
    "deployable_rst",
    "report_model",
]

CLOCK_MHZ = CORES["cortex-m4"].clock_mhz
"""Clock of the time column: the Cortex-M4's typical part, as ``tinyconv mcu`` assumes."""
ARENA_GOAL, FLASH_GOAL, ACCURACY_GOAL = 16 * 1024, 32 * 1024, 0.994


@dataclass(frozen=True)
class DeployablePoint:
    """One recipe's test accuracies and its model's Cortex-M4 costs.

    Args:
        point: Its accuracies over seeds, label, kind and parameters.
        flash_bytes: The model's bytes in flash (its int8 .tflite).
        arena_bytes: TFLite Micro's tensor arena.
        instructions: Instructions per inference.
        measured: Whether the costs come from an emulated run (else an estimate).
        source: The report they come from, or ``"estimate"``.
    """

    point: AccuracyPoint
    flash_bytes: int
    arena_bytes: int
    instructions: float
    measured: bool
    source: str


def architecture_key(model: object) -> str:
    """What a model's device costs depend on, as a digest: two models with equal keys cost the same.

    A TinyNet's architecture (input size, channels, specs; not its weights), else the
    printed module.

    Args:
        model: A model.

    Returns:
        A hex digest.
    """
    describe = getattr(model, "architecture", None)
    text = json.dumps(describe(), sort_keys=True) if callable(describe) else repr(model)
    return hashlib.sha256(text.encode()).hexdigest()


def report_model(reference: str, repository: str | os.PathLike[str]) -> Any:
    """The model a microcontroller report names, or ``None`` if its file is not there.

    Args:
        reference: The report's ``model``: a model file relative to ``repository``, or
            ``recipe:NAME`` (a ready recipe, whose architecture is what was run), each
            maybe followed by `` (a note)``.
        repository: The folder model paths are relative to.

    Returns:
        The model (a recipe's built untrained: only its architecture counts), or ``None``.
    """
    from tinyconv.recipes import get_recipe

    name = reference.split(" (")[0]
    if name.startswith("recipe:"):
        return get_recipe(name.removeprefix("recipe:")).build_model(seed=0)
    file = Path(repository) / name
    return load(file) if file.is_file() else None


def _measured(reports_dir: Path, core: str) -> dict[str, tuple[dict, str]]:
    """Each measured architecture's report, by architecture key (the first one found)."""
    found: dict[str, tuple[dict, str]] = {}
    for path, report in reports_in(reports_dir, MCU_REPORT_FORMAT, recursive=True):
        if not path.name.endswith(f".{core}.json"):
            continue
        model = report_model(str(report.get("model", "")), reports_dir.parents[1])
        if model is not None:
            found.setdefault(architecture_key(model), (report, str(path.relative_to(reports_dir))))
    return found


def deployable_points(
    results: Sequence[tuple[str | os.PathLike[str], str]],
    reports_dir: str | os.PathLike[str],
    core: str = "cortex-m4",
) -> list[DeployablePoint]:
    """Read each study's accuracies and find its model's costs on ``core``.

    Args:
        results: ``(study results file, kind)`` pairs; kind groups the points.
        reports_dir: Folder searched (recursively) for ``*.<core>.json`` reports of
            ``tinyconv mcu`` (``results/mcu``); their model paths are relative to the
            folder two levels up (the repository).
        core: The core.

    Returns:
        One point per results file, costs measured where a report of the same
        architecture exists, else estimated.
    """
    reports = Path(reports_dir)
    measured = _measured(reports, core)
    points = []
    for path, kind in results:
        point = point_from_results(path, kind=kind)
        recipe = Recipe.from_dict(json.loads(Path(path).read_text())["recipe"])
        model = recipe.build_model(seed=0)
        if architecture_key(model) in measured:
            report, source = measured[architecture_key(model)]
            costs = (report["flash"]["model"], report["ram"]["arena"],
                     report["instructions"]["mean"])  # fmt: skip
            points.append(DeployablePoint(point, *costs, measured=True, source=source))
        else:
            guess = estimate_device(model, core)
            points.append(
                DeployablePoint(
                    point,
                    guess.flash_bytes,
                    guess.arena_bytes,
                    guess.instructions,
                    measured=False,
                    source="estimate",
                )
            )
    return points


def deployable_rst(points: Sequence[DeployablePoint]) -> str:
    """Render the points as an rst list-table, fronts marked, the device goals answered.

    Args:
        points: From :func:`deployable_points`.

    Returns:
        reStructuredText: the table, then one line per device goal.

    Example:
        >>> point = AccuracyPoint("v5", "k", 6364, (0.994, 0.9945))
        >>> print(deployable_rst([DeployablePoint(point, 20184, 16228, 3265796.0, True, "r")]))
        ... # doctest: +ELLIPSIS
        .. list-table::
        ...
        * Most accurate in 16 KB of arena and 32 KB of model flash: v5, 99.43 % ...
    """
    accuracy = [p.point for p in points]
    by_instructions = set(
        pareto_front_labels(accuracy, {p.point.label: p.instructions for p in points})
    )
    by_flash = set(pareto_front_labels(accuracy, {p.point.label: p.flash_bytes for p in points}))
    head = ["Model", "Kind", "Params", "Test accuracy (seeds)", "Model flash B", "Arena B",
            "Instructions", f"Est. ms at {CLOCK_MHZ:g} MHz", "Pareto front"]  # fmt: skip
    rows = []
    for item in sorted(points, key=lambda p: p.instructions):
        p = item.point
        spread = f" ± {100 * p.std:.2f}" if p.std is not None else ""
        fronts = [name for name, front in (("instructions", by_instructions),
                                           ("flash", by_flash)) if p.label in front]  # fmt: skip
        mark = "" if item.measured else " (est.)"
        rows.append([
            p.label, p.kind, f"{p.params:,}", f"{percent(p.mean)}{spread} ({len(p.accuracies)})",
            f"{item.flash_bytes:,}{mark}", f"{item.arena_bytes:,}{mark}",
            f"{item.instructions:,.0f}{mark}",
            f"{item.instructions / (CLOCK_MHZ * 1e3):.1f}{mark}", ", ".join(fronts) or "-",
        ])  # fmt: skip
    fits = [p for p in points if p.arena_bytes <= ARENA_GOAL and p.flash_bytes <= FLASH_GOAL]
    fast = [p for p in points if p.point.mean >= ACCURACY_GOAL]
    lines = [list_table(head, rows)]
    if fits:
        best = max(fits, key=lambda p: p.point.mean)
        lines.append(
            f"* Most accurate in 16 KB of arena and 32 KB of model flash: {best.point.label}, "
            f"{percent(best.point.mean)} ({best.arena_bytes:,} B arena, "
            f"{best.flash_bytes:,} B flash)."
        )
    if fast:
        quickest = min(fast, key=lambda p: p.instructions)
        lines.append(
            f"* Fastest at {percent(ACCURACY_GOAL)} or more (mean over seeds): "
            f"{quickest.point.label}, {quickest.instructions:,.0f} instructions "
            f"({quickest.instructions / (CLOCK_MHZ * 1e3):.1f} ms at {CLOCK_MHZ:g} MHz)."
        )
    else:
        lines.append(f"* No model reaches {percent(ACCURACY_GOAL)} (mean over seeds).")
    return "\n".join(lines) + "\n"
