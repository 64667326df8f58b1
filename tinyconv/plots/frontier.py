"""Test accuracy against parameter count or a device cost: many recipes side by side.

An :class:`AccuracyPoint` is one recipe's final-epoch test accuracies over its seeds at
its parameter count, tagged with a free group name (its ``kind``: "trained from scratch",
"pruned", "distilled", ...); :func:`point_from_results` reads one from a study results
file. :func:`accuracy_params_figure` draws the points on a linear parameter axis: the
mean over seeds with a ± one standard deviation bar, every seed as a faint dot, one
colour and marker per kind, and optional target accuracies and parameter budgets.
"""

from __future__ import annotations

import numbers
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from tinyconv.plots._style import TARGET_COLOR, new_figure, style
from tinyconv.plots.curves import ResultsLike, legend_below, read_results
from tinyconv.plots.errors import ReportInputError

__all__ = [
    "AccuracyPoint",
    "accuracy_cost_figure",
    "accuracy_params_figure",
    "pareto_front_labels",
    "point_from_results",
]

# Okabe-Ito colours (distinct for colour-blind readers) with a marker each, so the kinds
# stay apart in grayscale too; a ninth kind starts over with the first pair.
_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_BUDGET_COLOR = "#555555"
# Where a label may go around its point: offset in points, horizontal and vertical alignment.
_LABEL_SPOTS = (
    ((6, 3), "left", "bottom"),
    ((6, -3), "left", "top"),
    ((-6, 3), "right", "bottom"),
    ((-6, -3), "right", "top"),
    ((7, 0), "left", "center"),
    ((-7, 0), "right", "center"),
    ((0, 7), "center", "bottom"),
    ((0, -7), "center", "top"),
)


@dataclass(frozen=True)
class AccuracyPoint:
    """One recipe's final-epoch test accuracies over its seeds, at its parameter count.

    Attributes:
        label: The recipe's name, written next to the point.
        kind: The group the point belongs to (one colour and marker per kind), e.g.
            ``"trained from scratch"``, ``"pruned"``, ``"distilled"``.
        params: The model's parameter count.
        accuracies: Final-epoch test accuracy of each seed, as fractions in [0, 1].

    Raises:
        ValueError: If ``params`` is not a positive whole number, there is no accuracy,
            or an accuracy lies outside [0, 1].

    Example:
        >>> point = AccuracyPoint("v5", "five versions", 6364, (0.9945, 0.9941, 0.9949))
        >>> round(point.mean, 4), round(point.std, 4)
        (0.9945, 0.0004)
    """

    label: str
    kind: str
    params: int
    accuracies: tuple[float, ...]

    def __post_init__(self) -> None:
        where = f"AccuracyPoint {self.label!r}"
        if not self.kind:
            raise ValueError(f"{where} has an empty kind; name its group, e.g. kind='pruned'")
        if (
            not isinstance(self.params, numbers.Integral)
            or isinstance(self.params, bool)
            or self.params < 1
        ):
            raise ValueError(
                f"{where} has params={self.params!r}; give the model's parameter count, "
                "a whole number >= 1"
            )
        accuracies = tuple(float(value) for value in self.accuracies)
        if not accuracies:
            raise ValueError(f"{where} has no accuracy; give one final test accuracy per seed")
        bad = [value for value in accuracies if not 0.0 <= value <= 1.0]
        if bad:
            raise ValueError(
                f"{where} has accuracies {bad} outside [0, 1]; give fractions (0.994, not 99.4)"
            )
        object.__setattr__(self, "params", int(self.params))
        object.__setattr__(self, "accuracies", accuracies)

    @property
    def mean(self) -> float:
        """Mean accuracy over the seeds, as a fraction."""
        return statistics.fmean(self.accuracies)

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof=1) over the seeds; ``None`` for a single seed."""
        return statistics.stdev(self.accuracies) if len(self.accuracies) > 1 else None


def point_from_results(
    results: ResultsLike, *, kind: str, label: str | None = None
) -> AccuracyPoint:
    """Read one recipe's point from a study results file (or its content).

    Args:
        results: A ``<recipe>.json`` path written by :func:`tinyconv.study.run_study`,
            or its content: ``{"recipe": {"name": ...}, "seeds": {"0": {"params": ...,
            "final_test_acc": ...}, ...}}``.
        kind: The point's group, e.g. ``"trained from scratch"``.
        label: The name written next to the point; the recipe's name by default.

    Returns:
        The point, with the seeds' final test accuracies in seed order.

    Raises:
        ReportInputError: (a :class:`ValueError`) If the file is missing or holds no
            finished seed, a seed lacks ``params`` or ``final_test_acc``, the seeds
            disagree on the parameter count, or there is no label and no recipe name.
        ValueError: If the values make no valid :class:`AccuracyPoint`.

    Example:
        >>> point = point_from_results(
        ...     {
        ...         "recipe": {"name": "mnist_v5"},
        ...         "seeds": {
        ...             "0": {"params": 6364, "final_test_acc": 0.9945},
        ...             "1": {"params": 6364, "final_test_acc": 0.9941},
        ...         },
        ...     },
        ...     kind="five versions",
        ... )
        >>> point.label, point.params, point.accuracies
        ('mnist_v5', 6364, (0.9945, 0.9941))
    """
    data = read_results(results)
    recipe = data.get("recipe")
    name = recipe.get("name") if isinstance(recipe, Mapping) else None
    if label is None:
        if not name:
            raise ReportInputError("the results name no recipe; pass label='...' to name the point")
        label = str(name)
    seeds = sorted(data["seeds"], key=int)
    params: dict[str, int] = {}
    accuracies: list[float] = []
    for seed in seeds:
        record = data["seeds"][seed]
        missing = [key for key in ("params", "final_test_acc") if key not in record]
        if missing:
            raise ReportInputError(
                f"seed {seed} of {label!r} lacks {', '.join(missing)}; point to a results "
                "file written by tinyconv.study.run_study"
            )
        params[seed] = int(record["params"])
        accuracies.append(float(record["final_test_acc"]))
    if len(set(params.values())) != 1:
        raise ReportInputError(
            f"the seeds of {label!r} have different parameter counts {params}; one point "
            "needs one model, so split the seeds into separate results"
        )
    return AccuracyPoint(label, kind, params[seeds[0]], tuple(accuracies))


def _draw_points(ax: Axes, points: Sequence[AccuracyPoint], xs: Mapping[int, float]) -> None:
    """Draw each kind's seeds, error bars and means at ``xs[id(point)]``."""
    kinds = list(dict.fromkeys(point.kind for point in points))
    for index, kind in enumerate(kinds):
        color, marker = _COLORS[index % len(_COLORS)], _MARKERS[index % len(_MARKERS)]
        group = [point for point in points if point.kind == kind]
        ax.plot(
            [xs[id(p)] for p in group for _ in p.accuracies],
            [100 * a for p in group for a in p.accuracies],
            linestyle="none",
            marker=marker,
            markersize=3,
            alpha=0.3,
            color=color,
            gid=f"seeds:{kind}",
            zorder=2,
        )
        spread = [p for p in group if p.std is not None]
        if spread:
            bars = ax.errorbar(
                [xs[id(p)] for p in spread],
                [100 * p.mean for p in spread],
                yerr=[100 * p.std for p in spread],  # type: ignore[operator]
                fmt="none",
                ecolor=color,
                elinewidth=1.2,
                capsize=3,
                zorder=3,
            )
            for artist in (*bars.lines[1], *bars.lines[2]):
                artist.set_gid(f"error:{kind}")
        ax.plot(
            [xs[id(p)] for p in group],
            [100 * p.mean for p in group],
            linestyle="none",
            marker=marker,
            markersize=7,
            markeredgecolor="white",
            markeredgewidth=0.8,
            color=color,
            label=kind,
            gid=f"mean:{kind}",
            zorder=4,
        )


def _check_targets(targets: Mapping[str, float]) -> None:
    for name, target in targets.items():
        if not 0.0 < target <= 1.0:
            raise ValueError(
                f"target {name!r} is {target!r}; give the accuracy as a fraction in (0, 1]"
            )


def _draw_targets(ax: Axes, targets: Mapping[str, float]) -> None:
    for name, target in targets.items():
        line = ax.axhline(
            100 * target, color=TARGET_COLOR, linestyle="--", linewidth=1.1,
            label=f"target {name}",
        )  # fmt: skip
        line.set_gid("target")


def pareto_front_labels(points: Sequence[AccuracyPoint], costs: Mapping[str, float]) -> list[str]:
    """The labels of the points no other point beats on both cost and mean accuracy.

    Args:
        points: The points.
        costs: Each point's cost by label (lower is better).

    Returns:
        The front's labels, from the cheapest to the most accurate.

    Raises:
        ValueError: If two points share a label.

    Example:
        >>> points = [AccuracyPoint("a", "k", 10, (0.99,)), AccuracyPoint("b", "k", 10, (0.98,)),
        ...           AccuracyPoint("c", "k", 10, (0.995,))]
        >>> pareto_front_labels(points, {"a": 1.0, "b": 2.0, "c": 3.0})
        ['a', 'c']
    """
    labels = [point.label for point in points]
    if len(set(labels)) != len(labels):
        raise ValueError(f"point labels must be unique, got {labels}; costs are keyed by label")
    front: list[str] = []
    best = float("-inf")
    for point in sorted(points, key=lambda p: (costs[p.label], -p.mean)):
        if point.mean > best:
            front.append(point.label)
            best = point.mean
    return front


def accuracy_cost_figure(
    points: Sequence[AccuracyPoint],
    costs: Mapping[str, float],
    *,
    cost_label: str,
    targets: Mapping[str, float] | None = None,
) -> Figure:
    """Draw test accuracy against a device cost, with the Pareto front marked.

    As :func:`accuracy_params_figure`, on another x axis: a cost per point such as the
    instructions per inference or the flash bytes on a Cortex-M4. The Pareto front (the
    points no other is both cheaper and more accurate than, by mean) is joined by a step
    line.

    Args:
        points: The points; kinds keep the order in which they first appear.
        costs: Each point's cost by label.
        cost_label: The x axis's name, e.g. ``"instructions per inference (Cortex-M4)"``.
        targets: Target accuracies as fractions by name, drawn as dashed lines.

    Returns:
        The figure (artists' gids as in :func:`accuracy_params_figure`, and ``pareto`` for
        the front's line).

    Raises:
        ValueError: If ``points`` is empty, a point has no cost or a target lies outside
            (0, 1].

    Example:
        >>> points = [AccuracyPoint("v5", "k", 6364, (0.994, 0.995)),
        ...           AccuracyPoint("4k", "k", 3740, (0.993,))]
        >>> fig = accuracy_cost_figure(points, {"v5": 3.3e6, "4k": 1.8e6},
        ...                            cost_label="instructions per inference")
        >>> [line.get_xdata().tolist() for line in fig.axes[0].lines if line.get_gid() == "pareto"]
        [[1800000.0, 3300000.0]]
    """
    if not points:
        raise ValueError("accuracy_cost_figure needs at least one AccuracyPoint")
    missing = [p.label for p in points if p.label not in costs]
    if missing:
        raise ValueError(f"no cost for {', '.join(missing)}; give costs[label] for every point")
    targets = dict(targets or {})
    _check_targets(targets)
    xs = {id(point): float(costs[point.label]) for point in points}
    front = pareto_front_labels(points, costs)
    by_label = {point.label: point for point in points}
    with style():
        fig = new_figure(9.5, 5.5)
        ax = fig.subplots()
        _draw_points(ax, points, xs)
        ax.plot(
            [float(costs[label]) for label in front],
            [100 * by_label[label].mean for label in front],
            drawstyle="steps-post", color="#777777", linewidth=1.0, linestyle="-",
            label="Pareto front", gid="pareto", zorder=1,
        )  # fmt: skip
        _draw_targets(ax, targets)
        ax.margins(x=0.08, y=0.12)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.set_xlabel(cost_label)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(
            f"Final test accuracy against {cost_label}\n"
            "(mean ± sample std over seeds; faint dots: single seeds; line: Pareto front)"
        )
        legend_below(ax)
        _place_labels(fig, ax, points, xs)
    return fig


def accuracy_params_figure(
    points: Sequence[AccuracyPoint],
    *,
    targets: Mapping[str, float] | None = None,
    budgets: Sequence[int] = (),
) -> Figure:
    """Draw test accuracy against parameter count, one colour and marker per kind.

    Each point is drawn at its mean over seeds with a bar of ± one sample standard
    deviation (none for a single seed), every seed as a small faint dot, and its label
    beside it, where it covers the fewest other labels and markers.

    Args:
        points: The points; kinds keep the order in which they first appear.
        targets: Target accuracies as fractions by name, e.g. ``{"99.4 %": 0.994}``, each
            drawn as a horizontal dashed line.
        budgets: Parameter budgets, each drawn as a vertical dotted line.

    Returns:
        The figure (one axes; x: parameters, y: test accuracy in %). Artists' gids:
        ``mean:<kind>`` (the means), ``error:<kind>`` (the bars), ``seeds:<kind>`` (the
        seeds' dots), ``label`` (the points' names), ``target`` (the target lines) and
        ``budget`` (the budget lines and their numbers).

    Raises:
        ValueError: If ``points`` is empty, a target lies outside (0, 1] or a budget
            is below 1.

    Example:
        >>> fig = accuracy_params_figure(
        ...     [
        ...         AccuracyPoint("v4", "five versions", 7_410, (0.9921, 0.9930)),
        ...         AccuracyPoint("v5", "five versions", 6_364, (0.9945, 0.9941, 0.9949)),
        ...         AccuracyPoint("v5 pruned", "pruned", 3_900, (0.9902,)),
        ...     ],
        ...     targets={"99.4 %": 0.994},
        ...     budgets=[4000, 8000],
        ... )
        >>> means = [line for line in fig.axes[0].lines if line.get_gid() == "mean:five versions"]
        >>> [round(float(y), 3) for y in means[0].get_ydata()]
        [99.255, 99.45]
    """
    if not points:
        raise ValueError("accuracy_params_figure needs at least one AccuracyPoint")
    targets = dict(targets or {})
    _check_targets(targets)
    for budget in budgets:
        if budget < 1:
            raise ValueError(f"budget {budget!r} is not a parameter count; give one >= 1")
    xs = {id(point): float(point.params) for point in points}
    with style():
        fig = new_figure(9.5, 5.5)
        ax = fig.subplots()
        _draw_points(ax, points, xs)
        _draw_targets(ax, targets)
        for index, budget in enumerate(sorted(set(budgets))):
            line = ax.axvline(
                budget,
                color=_BUDGET_COLOR,
                linestyle=":",
                linewidth=1.2,
                label="parameter budget" if index == 0 else None,
            )
            line.set_gid("budget")
            ax.annotate(
                f"{budget:,}",
                (budget, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=7.5,
                color=_BUDGET_COLOR,
            ).set_gid("budget")
        ax.margins(x=0.08, y=0.12)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.set_xlabel("parameters")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(
            "Final test accuracy against parameters\n"
            "(mean ± sample std over seeds; faint dots: single seeds)"
        )
        legend_below(ax)
        _place_labels(fig, ax, points, xs)
    return fig


def _place_labels(
    fig: Figure, ax: Axes, points: Sequence[AccuracyPoint], xs: Mapping[int, float]
) -> None:
    """Write each point's label beside its mean where it covers the least of the others.

    Greedy, from left to right along the x axis: each label takes the first of a few
    positions around its point (right before left, above before below) that overlaps no
    label placed before, no mean marker and nothing outside the axes, else the position
    that overlaps least. Positions are measured after one layout pass of the figure.
    """
    fig.draw_without_rendering()  # final layout, so pixel boxes are measured where drawn
    anchors = [(xs[id(p)], 100 * p.mean) for p in points]
    markers = [Bbox.from_bounds(x - 5, y - 5, 10, 10) for x, y in ax.transData.transform(anchors)]
    frame = ax.get_window_extent()
    placed: list[Bbox] = []
    order = sorted(range(len(points)), key=lambda i: (anchors[i][0], points[i].mean))
    for index in order:
        text = ax.annotate(
            points[index].label,
            anchors[index],
            xytext=_LABEL_SPOTS[0][0],
            textcoords="offset points",
            fontsize=7.5,
            color="#333333",
        )
        text.set_gid("label")
        best: tuple[float, tuple[float, float], str, str] | None = None
        for offset, ha, va in _LABEL_SPOTS:
            text.set_position(offset)
            text.set_ha(ha)
            text.set_va(va)
            box = text.get_window_extent()
            inside = box.intersection(box, frame)
            cost = box.width * box.height - (inside.width * inside.height if inside else 0.0)
            cost += sum(_overlap(box, other) for other in (*placed, *markers))
            if best is None or cost < best[0]:
                best = (cost, offset, ha, va)
            if cost == 0.0:
                break
        assert best is not None
        _, offset, ha, va = best
        text.set_position(offset)
        text.set_ha(ha)
        text.set_va(va)
        placed.append(text.get_window_extent())


def _overlap(a: Bbox, b: Bbox) -> float:
    """Area shared by two pixel boxes (0 when they do not meet)."""
    both = Bbox.intersection(a, b)
    return 0.0 if both is None else both.width * both.height
