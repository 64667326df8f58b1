"""Accuracy against a device cost: the Pareto front, the figure, and the committed table's data."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyconv as tc
from tinyconv.mcu.frontier import deployable_points, deployable_rst
from tinyconv.plots import AccuracyPoint, accuracy_cost_figure, pareto_front_labels

REPO = Path(__file__).resolve().parents[2]


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(900, 1000)), min_size=1, max_size=12))
def test_the_front_is_every_point_no_other_beats_on_both(pairs: list[tuple[int, int]]) -> None:
    points = [AccuracyPoint(f"p{i}", "k", 10, (acc / 1000,)) for i, (_, acc) in enumerate(pairs)]
    costs = {f"p{i}": float(cost) for i, (cost, _) in enumerate(pairs)}
    front = pareto_front_labels(points, costs)
    by = {p.label: p for p in points}

    def beats(a: AccuracyPoint, b: AccuracyPoint) -> bool:  # at least as good, better in one
        cheaper, better = costs[a.label] <= costs[b.label], a.mean >= b.mean
        return cheaper and better and (costs[a.label] < costs[b.label] or a.mean > b.mean)

    for label in front:
        assert not any(beats(other, by[label]) for other in points)
    for point in points:
        if point.label not in front:
            assert any(
                costs[by[f].label] <= costs[point.label] and by[f].mean >= point.mean for f in front
            )
    ordered = [(costs[label], by[label].mean) for label in front]
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in itertools.pairwise(ordered))


def test_the_figure_joins_the_front_and_refuses_a_point_without_cost() -> None:
    points = [
        AccuracyPoint("cheap", "a", 100, (0.990, 0.992)),
        AccuracyPoint("dominated", "a", 100, (0.985,)),
        AccuracyPoint("best", "b", 100, (0.995,)),
    ]
    costs = {"cheap": 1e6, "dominated": 2e6, "best": 3e6}
    fig = accuracy_cost_figure(points, costs, cost_label="instructions", targets={"99.4 %": 0.994})
    (front,) = [line for line in fig.axes[0].lines if line.get_gid() == "pareto"]
    assert list(front.get_xdata()) == [1e6, 3e6]
    assert fig.axes[0].get_xlabel() == "instructions"
    with pytest.raises(ValueError, match="no cost for best"):
        accuracy_cost_figure(points, {"cheap": 1.0, "dominated": 2.0}, cost_label="x")


def test_committed_studies_take_the_measured_costs_of_their_architecture(tmp_path: Path) -> None:
    v5 = REPO / "results" / "mnist_v5.json"
    report = json.loads((REPO / "results/mcu/mnist_v5.cortex-m4.json").read_text())
    new = json.loads(v5.read_text())
    from dataclasses import replace

    from tinyconv import ConvSpec, GAPHeadSpec
    from tinyconv.recipes import get_recipe

    unmeasured = replace(  # an architecture never run on the emulator
        get_recipe("mnist_v5"), name="unmeasured",
        specs=(ConvSpec(out_channels=4), ConvSpec(out_channels=8),
                                       GAPHeadSpec(num_classes=10)),
    )  # fmt: skip
    new["recipe"] = unmeasured.to_dict()
    for record in new["seeds"].values():
        record["params"] = tc.count_parameters(unmeasured.build_model())
    (tmp_path / "mnist_2k.json").write_text(json.dumps(new))
    measured, estimated = deployable_points(
        [(v5, "versions"), (tmp_path / "mnist_2k.json", "candidates")], REPO / "results/mcu"
    )
    assert measured.measured and measured.instructions == report["instructions"]["mean"]
    assert (measured.flash_bytes, measured.arena_bytes) == (
        report["flash"]["model"],
        report["ram"]["arena"],
    )
    assert not estimated.measured and estimated.source == "estimate"
    table = deployable_rst([measured, estimated])
    assert "(est.)" in table and "No model reaches 99.40 %" in table  # V5: 99.39 %
