"""The accuracy-against-parameters figure: means, spreads, seeds, labels, lines, inputs."""

from __future__ import annotations

import json
import math
import statistics
from itertools import combinations
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from tinyconv.plots import (
    AccuracyPoint,
    ReportInputError,
    accuracy_params_figure,
    point_from_results,
    save_png,
)

matplotlib.use("Agg")

POINTS = [
    AccuracyPoint("v3", "five versions", 6364, (0.9907, 0.9925, 0.9906)),
    AccuracyPoint("v5", "five versions", 6364, (0.9945, 0.9946, 0.9939, 0.9930, 0.9935)),
    AccuracyPoint("v1", "five versions", 7200, (0.9899, 0.9894)),
    AccuracyPoint("v5 pruned", "pruned", 3900, (0.9902, 0.9911, 0.9895)),
    AccuracyPoint("v5 pruned once", "pruned", 4100, (0.9920,)),
    AccuracyPoint("student", "distilled", 3950, (0.9931,)),
]


def axes_of(fig: Figure) -> Axes:
    (ax,) = fig.axes
    return ax


def lines(ax: Axes, gid: str) -> list[Line2D]:
    return [line for line in ax.lines if line.get_gid() == gid]


def error_bars(ax: Axes, kind: str) -> list[LineCollection]:
    return [c for c in ax.collections if c.get_gid() == f"error:{kind}"]


def bar_half_lengths(ax: Axes, kind: str) -> dict[float, float]:
    """Half the length of each error bar of ``kind``, by the bar's x (parameters)."""
    (bars,) = error_bars(ax, kind)
    return {float(seg[0][0]): (seg[1][1] - seg[0][1]) / 2 for seg in bars.get_segments()}


def test_each_kind_is_drawn_at_its_means_with_its_own_colour_and_marker() -> None:
    ax = axes_of(accuracy_params_figure(POINTS))
    kinds = ["five versions", "pruned", "distilled"]
    styles = set()
    for kind in kinds:
        (mean,) = lines(ax, f"mean:{kind}")
        group = [p for p in POINTS if p.kind == kind]
        assert list(mean.get_xdata()) == [p.params for p in group]
        assert list(mean.get_ydata()) == pytest.approx(
            [100 * statistics.mean(p.accuracies) for p in group]
        )
        styles.add((mean.get_color(), mean.get_marker()))
    assert len(styles) == len(kinds)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == kinds
    assert ax.get_xscale() == "linear"
    assert ax.get_ylabel() == "test accuracy (%)"


def test_every_seed_is_a_faint_dot_at_the_points_parameters() -> None:
    ax = axes_of(accuracy_params_figure(POINTS))
    (seeds,) = lines(ax, "seeds:five versions")
    group = [p for p in POINTS if p.kind == "five versions"]
    assert list(seeds.get_xdata()) == [p.params for p in group for _ in p.accuracies]
    assert list(seeds.get_ydata()) == pytest.approx([100 * a for p in group for a in p.accuracies])
    (mean,) = lines(ax, "mean:five versions")
    assert seeds.get_alpha() < 1 and seeds.get_markersize() < mean.get_markersize()


def test_the_error_bar_is_one_sample_standard_deviation_around_the_mean() -> None:
    ax = axes_of(accuracy_params_figure(POINTS))
    (bars,) = error_bars(ax, "five versions")
    by_x: dict[float, list[Any]] = {}
    for segment in bars.get_segments():
        by_x.setdefault(float(segment[0][0]), []).append(segment)
    v5, v1 = POINTS[1], POINTS[2]
    (v1_bar,) = by_x[7200.0]
    std = 100 * statistics.stdev(v1.accuracies)  # ddof=1
    assert std != pytest.approx(100 * float(np.std(v1.accuracies)))  # not the population std
    assert [v1_bar[0][1], v1_bar[1][1]] == pytest.approx([100 * v1.mean - std, 100 * v1.mean + std])
    assert len(by_x[6364.0]) == 2  # v3 and v5 share the parameter count
    halves = sorted((s[1][1] - s[0][1]) / 2 for s in by_x[6364.0])
    assert halves == pytest.approx(
        sorted(100 * statistics.stdev(p.accuracies) for p in (POINTS[0], v5))
    )


def test_a_single_seed_point_has_no_error_bar() -> None:
    ax = axes_of(accuracy_params_figure(POINTS))
    assert error_bars(ax, "distilled") == []  # its only point has one seed
    assert [line for line in ax.lines if line.get_gid() == "error:distilled"] == []
    (pruned,) = error_bars(ax, "pruned")  # one bar: the three-seed point, not the one-seed one
    assert [float(segment[0][0]) for segment in pruned.get_segments()] == [3900.0]
    assert POINTS[5].std is None and POINTS[4].std is None


def test_targets_and_budgets_are_lines_where_asked() -> None:
    ax = axes_of(
        accuracy_params_figure(
            POINTS, targets={"99.4 %": 0.994, "99 %": 0.99}, budgets=[8000, 4000]
        )
    )
    targets = lines(ax, "target")
    assert sorted(float(line.get_ydata()[0]) for line in targets) == pytest.approx([99.0, 99.4])
    assert all(line.get_linestyle() == "--" for line in targets)
    budgets = lines(ax, "budget")
    assert sorted(float(line.get_xdata()[0]) for line in budgets) == [4000.0, 8000.0]
    assert all(line.get_linestyle() == ":" for line in budgets)
    assert sorted(t.get_text() for t in ax.texts if t.get_gid() == "budget") == [
        "4,000",
        "8,000",
    ]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert {"target 99.4 %", "target 99 %", "parameter budget"} <= set(legend)
    low, high = ax.get_xlim()
    assert low < 3900 and high > 8000  # every point and budget is on the axis


def test_no_lines_without_targets_or_budgets_and_thousands_separators_on_x() -> None:
    ax = axes_of(accuracy_params_figure(POINTS))
    assert lines(ax, "target") == [] and lines(ax, "budget") == []
    assert ax.xaxis.get_major_formatter()(12345.0, 0) == "12,345"


def test_every_point_is_labelled_and_no_two_labels_overlap() -> None:
    crowded = [
        AccuracyPoint(f"recipe {i}", "five versions", 6364, (0.990 + 0.0005 * i, 0.991))
        for i in range(4)
    ] + POINTS
    fig = accuracy_params_figure(crowded)
    ax = axes_of(fig)
    labels = [text for text in ax.texts if text.get_gid() == "label"]
    assert sorted(text.get_text() for text in labels) == sorted(p.label for p in crowded)
    fig.draw_without_rendering()
    boxes = [text.get_window_extent() for text in labels]
    overlapping = [
        (a.get_text(), b.get_text())
        for (a, box_a), (b, box_b) in combinations(zip(labels, boxes, strict=True), 2)
        if box_a.overlaps(box_b)
    ]
    assert overlapping == []
    for text in labels:  # each label sits at its own point
        point = next(p for p in crowded if p.label == text.get_text())
        assert text.xy == pytest.approx((point.params, 100 * point.mean))


def test_the_same_points_give_the_same_png(tmp_path: Path) -> None:
    first = save_png(accuracy_params_figure(POINTS, budgets=[4000]), tmp_path / "a.png")
    second = save_png(accuracy_params_figure(POINTS, budgets=[4000]), tmp_path / "b.png")
    assert first.read_bytes() == second.read_bytes()


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=10**6),
)
def test_the_drawn_mean_and_bar_are_the_seeds_mean_and_sample_std(
    accuracies: list[float], params: int
) -> None:
    point = AccuracyPoint("p", "k", params, tuple(accuracies))
    ax = axes_of(accuracy_params_figure([point]))
    (mean,) = lines(ax, "mean:k")
    assert float(mean.get_ydata()[0]) == pytest.approx(100 * statistics.mean(accuracies))
    assert float(mean.get_xdata()[0]) == params
    if len(accuracies) == 1:
        assert error_bars(ax, "k") == []
    else:
        (half,) = bar_half_lengths(ax, "k").values()
        assert half == pytest.approx(100 * statistics.stdev(accuracies), abs=1e-9)


def results(**seeds: dict[str, Any]) -> dict[str, Any]:
    return {"recipe": {"name": "mnist_v5"}, "epochs": 15, "seeds": seeds}


def test_point_from_results_reads_params_and_final_accuracies_in_seed_order() -> None:
    data = results(
        **{
            "10": {"params": 6364, "final_test_acc": 0.993, "best_test_acc": 0.999},
            "2": {"params": 6364, "final_test_acc": 0.9945},
        }
    )
    point = point_from_results(data, kind="five versions")
    assert point == AccuracyPoint("mnist_v5", "five versions", 6364, (0.9945, 0.993))
    assert point_from_results(data, kind="x", label="V5").label == "V5"


def test_point_from_results_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mnist_v4.json"
    path.write_text(
        json.dumps(
            {
                "recipe": {"name": "mnist_v4"},
                "epochs": 15,
                "seeds": {
                    "0": {"params": 6364, "final_test_acc": 0.9932},
                    "1": {"params": 6364, "final_test_acc": 0.9916},
                },
            }
        ),
        encoding="utf-8",
    )
    point = point_from_results(path, kind="five versions")
    assert (point.label, point.params, point.accuracies) == ("mnist_v4", 6364, (0.9932, 0.9916))
    assert point_from_results(str(path), kind="k") == AccuracyPoint(
        "mnist_v4", "k", 6364, (0.9932, 0.9916)
    )


def test_point_from_results_refuses_seeds_of_different_models() -> None:
    data = results(
        **{
            "0": {"params": 6364, "final_test_acc": 0.99},
            "1": {"params": 6300, "final_test_acc": 0.99},
        }
    )
    with pytest.raises(ValueError, match=r"different parameter counts .*split the seeds"):
        point_from_results(data, kind="k")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (results(**{"0": {"params": 6364}}), r"seed 0 of 'mnist_v5' lacks final_test_acc"),
        (results(**{"3": {"final_test_acc": 0.99}}), r"seed 3 of 'mnist_v5' lacks params"),
        (results(), r"hold no finished seed"),
        ({"seeds": {"0": {"params": 1, "final_test_acc": 0.9}}}, r"pass label="),
        (results(**{"0": {"params": 6364, "final_test_acc": 99.4}}), r"outside \[0, 1\]"),
    ],
)
def test_point_from_results_refuses_incomplete_results(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        point_from_results(data, kind="k")


def test_point_from_results_of_a_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="no results file at"):
        point_from_results(tmp_path / "nope.json", kind="k")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"params": 0}, r"params=0; give the model's parameter count"),
        ({"params": 1.5}, r"params=1.5"),
        ({"params": True}, r"params=True"),
        ({"accuracies": ()}, r"has no accuracy; give one final test accuracy per seed"),
        ({"accuracies": (0.99, 99.4)}, r"accuracies \[99.4\] outside \[0, 1\]; give fractions"),
        ({"accuracies": (math.nan,)}, r"outside \[0, 1\]"),
        ({"accuracies": (-0.1,)}, r"outside \[0, 1\]"),
        ({"kind": ""}, r"empty kind"),
    ],
)
def test_accuracy_point_refuses_bad_values(kwargs: dict[str, Any], message: str) -> None:
    fields = {"label": "v5", "kind": "k", "params": 6364, "accuracies": (0.99,), **kwargs}
    with pytest.raises(ValueError, match=message):
        AccuracyPoint(**fields)


def test_accuracy_point_keeps_a_tuple_of_floats() -> None:
    point = AccuracyPoint("v5", "k", 6364, [1, 0.5])  # type: ignore[arg-type]
    assert point.accuracies == (1.0, 0.5)
    assert isinstance(point.accuracies, tuple)
    assert point.std == pytest.approx(statistics.stdev([1, 0.5]))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ([], {}, r"needs at least one AccuracyPoint"),
        (POINTS, {"targets": {"99.4": 99.4}}, r"target '99.4' is 99.4; give .* fraction"),
        (POINTS, {"targets": {"none": 0.0}}, r"fraction in \(0, 1\]"),
        (POINTS, {"budgets": [0]}, r"budget 0 is not a parameter count"),
    ],
)
def test_the_figure_refuses_bad_inputs(
    args: list[AccuracyPoint], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        accuracy_params_figure(args, **kwargs)
