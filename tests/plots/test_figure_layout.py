"""Figures read right at 1, 2 and 15 epochs and 1 and 5 seeds: no empty plot or matplotlib
warning for one epoch, no overlapping tick labels, no legend over a data point, whole trial
numbers. The curves are the real histories of results/mnist_v5.json, cut to fewer epochs
and seeds; every figure is drawn by Agg and measured in pixels."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import tinyconv as tc
from tinyconv.plots import budget_figure, compare_recipes, learning_curves
from tinyconv.study import load_results

REPO_ROOT = Path(__file__).resolve().parents[2]
V5 = load_results(REPO_ROOT / "results" / "mnist_v5.json")
SHAPES = [(1, 1), (1, 5), (2, 1), (2, 5), (15, 1), (15, 5)]  # (epochs, seeds)


def cut(epochs: int, seeds: int) -> dict[str, Any]:
    """results/mnist_v5.json with its first ``seeds`` seeds and their first ``epochs``."""
    kept = sorted(V5["seeds"], key=int)[:seeds]
    return {
        **V5,
        "epochs": epochs,
        "seeds": {
            key: {**V5["seeds"][key], "history": V5["seeds"][key]["history"][:epochs]}
            for key in kept
        },
    }


def drawn(figure: Figure) -> Any:
    """Draw ``figure`` with Agg, failing on any matplotlib warning; return the renderer."""
    FigureCanvasAgg(figure)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure.canvas.draw()
    return figure.canvas.get_renderer()


def tick_labels(axis: Axis, renderer: Any) -> list[tuple[str, Any]]:
    low, high = sorted(axis.get_view_interval())
    found = []
    for minor in (False, True):
        ticks = axis.get_minor_ticks() if minor else axis.get_major_ticks()
        locations = axis.get_minorticklocs() if minor else axis.get_majorticklocs()
        for tick, location in zip(ticks, locations, strict=False):
            for label in (tick.label1, tick.label2):
                if label.get_visible() and label.get_text() and low <= location <= high:
                    found.append((label.get_text(), label.get_window_extent(renderer)))
    return found


def assert_no_tick_labels_overlap(figure: Figure) -> None:
    renderer = drawn(figure)
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = tick_labels(axis, renderer)
            for (text_a, box_a), (text_b, box_b) in itertools.combinations(labels, 2):
                overlap = box_a.overlaps(box_b) and not (
                    box_a.x1 - 1 <= box_b.x0
                    or box_b.x1 - 1 <= box_a.x0
                    or box_a.y1 - 1 <= box_b.y0
                    or box_b.y1 - 1 <= box_a.y0
                )
                assert not overlap, f"tick labels {text_a!r} and {text_b!r} overlap"


def data_points(figure: Figure) -> list[tuple[float, float, str]]:
    """Display positions of every data point: line vertices (and points along their
    segments) and scatter points, in data coordinates of any axes of the figure."""
    points = []
    for ax in figure.axes:
        for line in ax.lines:
            if line.get_transform() != ax.transData:
                continue  # a target or budget line across the axes
            xy = line.get_transform().transform(line.get_xydata())
            for (x0, y0), (x1, y1) in itertools.pairwise(xy):
                for t in np.linspace(0, 1, 12):
                    points.append((x0 + t * (x1 - x0), y0 + t * (y1 - y0), str(line.get_label())))
            points += [(x, y, str(line.get_label())) for x, y in xy]
        for collection in ax.collections:
            offsets = collection.get_offsets()
            if len(offsets) and collection.get_offset_transform() == ax.transData:
                xy = ax.transData.transform(offsets)
                points += [(x, y, str(collection.get_label())) for x, y in xy]
    return points


def assert_legends_hide_no_data(figure: Figure) -> None:
    renderer = drawn(figure)
    legends = [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    assert legends
    points = data_points(figure)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        hidden = [label for x, y, label in points if box.contains(x, y)]
        assert not hidden, f"the legend covers points of {sorted(set(hidden))}"


def test_one_epoch_draws_markers_a_band_and_a_padded_axis_without_warnings() -> None:
    figure = learning_curves(cut(1, 5))
    renderer = drawn(figure)  # no "identical low and high xlims" warning
    acc_ax = figure.axes[0]
    assert acc_ax.get_xlim() == (0.5, 1.5)
    assert [text for text, _ in tick_labels(acc_ax.xaxis, renderer)] == ["1"]
    for line in acc_ax.lines:
        if line.get_gid() and line.get_gid().startswith("mean:"):
            assert line.get_marker() not in ("None", None, "")
    band = next(c for c in acc_ax.collections if c.get_gid() == "band:test_acc")
    (segment,) = band.get_segments()
    first = 100 * np.array([seed["history"][0]["eval_acc"] for seed in V5["seeds"].values()])
    assert sorted(segment[:, 1]) == pytest.approx([first.min(), first.max()])


@pytest.mark.parametrize(("epochs", "seeds"), SHAPES)
def test_learning_curves_tick_labels_never_overlap(epochs: int, seeds: int) -> None:
    """The learning-rate axis labelled 0.08, 0.09 and 0.1 on top of each other."""
    assert_no_tick_labels_overlap(learning_curves(cut(epochs, seeds)))


@pytest.mark.parametrize(("epochs", "seeds"), SHAPES)
def test_learning_curves_legends_hide_no_point(epochs: int, seeds: int) -> None:
    figure = learning_curves(cut(epochs, seeds))
    assert_legends_hide_no_data(figure)
    title = figure.get_suptitle()
    assert (
        "1 seed, so no band" if seeds == 1 else f"{seeds} seeds, mean line and min-max band"
    ) in title


def test_comparison_legend_hides_no_point_and_labels_stay_apart() -> None:
    paths = [REPO_ROOT / "results" / f"mnist_v{v}.json" for v in range(1, 6)]
    assert_legends_hide_no_data(compare_recipes(paths))
    assert_no_tick_labels_overlap(compare_recipes([cut(1, 2), cut(2, 1)]))


@pytest.mark.parametrize("budget", [None, 5000, 6400, 8000])
def test_budget_legend_leaves_the_running_total_visible(budget: int | None) -> None:
    """The legend sat on the running total's last points (the head's row)."""
    model = tc.build(
        [
            tc.ConvSpec(out_channels=8),
            tc.ConvSpec(out_channels=12),
            tc.TransitionSpec(out_channels=8),
            tc.ConvSpec(out_channels=12),
            tc.ConvSpec(out_channels=16),
            tc.ConvSpec(out_channels=16),
            tc.SESpec(rd_channels=4),
            tc.GAPHeadSpec(num_classes=10),
        ]
    )
    figure = budget_figure(model, budget=budget)
    assert_legends_hide_no_data(figure)
    assert_no_tick_labels_overlap(figure)


optuna = pytest.importorskip("optuna")


def small_study(rows: list[tuple[float, int]]) -> Any:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="small", direction="maximize")
    for accuracy, params in rows:
        study.add_trial(optuna.trial.create_trial(value=accuracy, user_attrs={"params": params}))
    return study


def test_search_history_numbers_trials_with_whole_numbers() -> None:
    from tinyconv.plots import search_history_figure

    figure = search_history_figure(small_study([(0.97, 3000), (0.98, 3500), (0.975, 3900)]))
    labels = [text for text, _ in tick_labels(figure.axes[0].xaxis, drawn(figure))]
    assert labels and all(text.isdigit() for text in labels), labels
    assert_legends_hide_no_data(figure)


def test_pareto_legend_hides_no_trial() -> None:
    """The big, weak trial sits in the lower right corner, where the legend was."""
    from tinyconv.plots import pareto_front_figure

    study = small_study([(0.98, 2500), (0.99, 3000), (0.95, 3950), (0.97, 3900), (0.96, 3800)])
    figure = pareto_front_figure(study, max_params=4000)
    assert_legends_hide_no_data(figure)
    assert "budget 4,000" in [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
