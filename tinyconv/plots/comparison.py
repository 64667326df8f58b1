"""Several recipes' test accuracy on one axis: the picture of the five-step story (V1 … V5).

Each recipe is its mean over seeds with a min–max band, in a colour sampled from viridis
(ordered by lightness, so the order survives grayscale) and with its own marker, so the
lines stay apart without colour as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from tinyconv.plots._style import new_figure, style
from tinyconv.plots.curves import (
    ResultsLike,
    accuracy_floor,
    draw_band,
    draw_target,
    epoch_axis,
    note_cut_off,
    read_results,
    seed_curves,
)
from tinyconv.study.seed_stats import results_dataset, results_target

__all__ = ["compare_recipes"]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def compare_recipes(
    results: Sequence[ResultsLike],
    *,
    target: float | Literal["dataset"] | None = "dataset",
    dataset: str | None = None,
) -> Figure:
    """Draw the test accuracy per epoch of several recipes on one axis.

    Args:
        results: Results file paths (or contents), in the order to list them.
        target: Target accuracy as a fraction; ``"dataset"`` (the default) takes the
            target of the recipes' dataset from the dataset registry (no line if they
            differ or it has none); ``None`` for no line.
        dataset: Name of the data for the title (default: the display name of the
            recipes' dataset, or "several datasets").

    Returns:
        The figure (one axes); each legend entry gives the recipe's final-epoch mean ± std.

    Raises:
        ValueError: If ``results`` is empty.
        ReportInputError: If a results file holds no usable seed.

    Example:
        >>> fig = compare_recipes([f"results/mnist_v{v}.json" for v in range(1, 6)])
        >>> [text.get_text().split(":")[0] for text in fig.axes[0].get_legend().get_texts()][:2]
        ['mnist_v1', 'mnist_v2']
    """
    if not results:
        raise ValueError("compare_recipes needs at least one results file")
    contents = [read_results(item) for item in results]
    if dataset is None:
        shown = {getattr(results_dataset(data), "display_name", "its dataset") for data in contents}
        dataset = shown.pop() if len(shown) == 1 else "several datasets"
    if target == "dataset":
        targets = {results_target(data) for data in contents}
        target = targets.pop() if len(targets) == 1 else None
    all_curves = [seed_curves(data) for data in contents]
    cmap = colormaps["viridis"]
    shades = np.linspace(0.0, 0.85, len(all_curves)) if len(all_curves) > 1 else [0.0]
    accuracies = [100 * curves.eval_acc for curves in all_curves]
    with style():
        fig = new_figure(11, 5)
        ax = fig.subplots()
        for index, (curves, acc) in enumerate(zip(all_curves, accuracies, strict=True)):
            final = acc[:, -1]
            std = float(final.std(ddof=1)) if len(final) > 1 else 0.0
            draw_band(
                ax,
                curves.epochs,
                acc,
                color=cmap(float(shades[index])),
                label=(
                    f"{curves.name}: {final.mean():.2f} ± {std:.2f} % "
                    f"({len(curves.seeds)} seed{'s' if len(curves.seeds) != 1 else ''})"
                ),
                gid=f"{curves.name}:test_acc",
                marker=_MARKERS[index % len(_MARKERS)],
            )
        draw_target(ax, target)
        floor = accuracy_floor(accuracies, target)
        ax.set_ylim(floor, 100.0)
        epoch_axis(
            ax,
            min(int(c.epochs[0]) for c in all_curves),
            max(int(c.epochs[-1]) for c in all_curves),
        )
        note_cut_off(ax, accuracies, floor)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{all_curves[0].eval_name} accuracy (%)")
        ax.set_title(
            f"{all_curves[0].eval_name.capitalize()} accuracy per epoch on {dataset}, "
            "mean and min-max band over seeds\n(legend: final-epoch mean ± std)"
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig
