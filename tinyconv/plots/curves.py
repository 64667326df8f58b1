"""Learning curves of one recipe over all its seeds, read from a results file.

:func:`seed_curves` turns the per-epoch histories of every seed into arrays (seeds x
epochs); :func:`learning_curves` draws the mean over seeds with a min–max band for the
training and test accuracy and loss, the learning rate on a second axis and the 99.4 %
target line.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

from tinyconv.plots._style import (
    LR_COLOR,
    TARGET_COLOR,
    TEST_COLOR,
    TRAIN_COLOR,
    new_figure,
    style,
)
from tinyconv.plots.errors import ReportInputError
from tinyconv.study.results import load_results
from tinyconv.study.seed_stats import results_dataset, results_target
from tinyconv.train.history import History

__all__ = ["SeedCurves", "learning_curves", "read_results", "seed_curves"]  # and helpers for plots

PLAIN = FuncFormatter(lambda value, _: f"{value:g}")
"""Tick labels of log axes as plain numbers (0.03, not 3 x 10^-2)."""


def _minor_at(*mantissas: int) -> FuncFormatter:
    def label(value: float, _: object) -> str:
        mantissa = round(value / 10 ** math.floor(math.log10(value)), 6)
        return f"{value:g}" if mantissa in mantissas else ""

    return FuncFormatter(label)


SOME_MINOR = _minor_at(2, 3, 5)
"""Minor tick labels of log axes at 2, 3 and 5 times a power of ten only."""

FEW_MINOR = _minor_at(2, 5)
"""Minor tick labels of log axes at 2 and 5 times a power of ten only."""

ResultsLike = Mapping[str, Any] | str | os.PathLike[str]


def read_results(results: ResultsLike) -> dict[str, Any]:
    """Return a results file's content, refusing one without finished seeds.

    Args:
        results: A ``<recipe>.json`` path written by :func:`tinyconv.study.run_study`, or
            its content as read by :func:`tinyconv.study.load_results`.

    Returns:
        The content, with at least one seed.

    Raises:
        ReportInputError: If the file is missing, is not a results file, or holds no
            finished seed.

    Example:
        >>> read_results({"recipe": {"name": "v9"}, "seeds": {}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.plots.errors.ReportInputError: results of 'v9' hold no finished seed; ...
    """
    if isinstance(results, Mapping):
        data = dict(results)
        where = f"results of {_recipe_name(data)!r}"
    else:
        path = Path(results)
        if not path.is_file():
            raise ReportInputError(f"no results file at {str(path)!r}; check the path")
        try:
            data = load_results(path)
        except ValueError as error:
            raise ReportInputError(f"{error}; point to a results/<recipe>.json file") from error
        data.setdefault("recipe", {}).setdefault("name", path.stem)
        where = str(path)
    if not isinstance(data.get("seeds"), Mapping) or not data["seeds"]:
        raise ReportInputError(
            f"{where} hold no finished seed; train at least one first (python "
            f"examples/{_recipe_name(data)}.py --seeds 1) or point to another results file"
        )
    return data


def _recipe_name(data: Mapping[str, Any]) -> str:
    recipe = data.get("recipe")
    return str(recipe.get("name", "recipe")) if isinstance(recipe, Mapping) else "recipe"


@dataclass(frozen=True)
class SeedCurves:
    """Per-epoch measurements of every seed of one recipe, as arrays of shape (seeds, epochs).

    Accuracies are fractions in [0, 1], as recorded.

    Attributes:
        name: The recipe's name.
        seeds: Seed numbers, in the row order of the arrays.
        epochs: 1-based epoch numbers, shape (epochs,).
        train_acc: Training accuracy measured during each epoch.
        eval_acc: Accuracy on the evaluated set after each epoch.
        train_loss: Mean training loss of each epoch.
        eval_loss: Mean cross-entropy on the evaluated set.
        lr: Learning rate at the start of each epoch.
        eval_name: Name of the evaluated set (``"test"`` for the study runs).
    """

    name: str
    seeds: tuple[int, ...]
    epochs: np.ndarray
    train_acc: np.ndarray
    eval_acc: np.ndarray
    train_loss: np.ndarray
    eval_loss: np.ndarray
    lr: np.ndarray
    eval_name: str


def seed_curves(results: ResultsLike) -> SeedCurves:
    """Read every seed's history of a results file into arrays.

    Args:
        results: A results file path or its content.

    Returns:
        The curves, one row per seed in seed order.

    Raises:
        ReportInputError: If there is no seed, a history is empty or lacks evaluation, or
            the seeds ran different numbers of epochs.

    Example:
        >>> curves = seed_curves("results/mnist_v5.json")
        >>> curves.eval_acc.shape, curves.eval_name
        ((5, 15), 'test')
    """
    data = read_results(results)
    name = _recipe_name(data)
    seeds = sorted(data["seeds"], key=int)
    histories = [History.from_list(data["seeds"][seed].get("history", [])) for seed in seeds]
    lengths = {len(history) for history in histories}
    if len(lengths) != 1 or 0 in lengths:
        raise ReportInputError(
            f"the seeds of {name!r} have histories of {sorted(lengths)} epochs; every seed "
            "needs the same, non-zero number of epochs (rerun the short ones)"
        )
    if any(r.eval_acc is None or r.eval_loss is None for h in histories for r in h):
        raise ReportInputError(
            f"some epochs of {name!r} were not evaluated; curves need an eval loader in every epoch"
        )

    def table(field: str) -> np.ndarray:
        return np.array([[getattr(r, field) for r in h] for h in histories], dtype=float)

    return SeedCurves(
        name=name,
        seeds=tuple(int(seed) for seed in seeds),
        epochs=table("epoch")[0].astype(int),
        train_acc=table("train_acc"),
        eval_acc=table("eval_acc"),
        train_loss=table("train_loss"),
        eval_loss=table("eval_loss"),
        lr=table("lr"),
        eval_name=str(histories[0][0].eval_name or "eval"),
    )


def accuracy_floor(values: Sequence[np.ndarray], target: float | None) -> float:
    """Lower limit (in %) of a zoomed accuracy axis: the later two thirds of the epochs fit.

    The limit is the lowest value from the first third of the epochs on, rounded down to
    half a point, and at least a point below ``target``; early epochs below it are cut off
    (the figures say so on the axes).

    Args:
        values: Accuracy arrays in percent, epochs along the last axis.
        target: The target accuracy as a fraction, or ``None``.

    Returns:
        The axis floor in percent.

    Example:
        >>> accuracy_floor([np.array([[50.0, 98.7, 99.2]])], 0.994)
        98.0
    """
    epochs = values[0].shape[-1]
    start = epochs // 3
    low = min(float(np.min(v[..., start:])) for v in values)
    floor = math.floor(low * 2) / 2
    if target is not None:
        floor = min(floor, math.floor(100 * target) - 1.0)
    return max(0.0, floor)


def draw_band(
    ax: Axes,
    epochs: np.ndarray,
    values: np.ndarray,
    *,
    color: str,
    label: str,
    gid: str,
    linestyle: str = "-",
    marker: str | None = "o",
) -> None:
    """Draw the mean over seeds (rows) as a line with markers and the min–max over seeds as a band.

    With a single epoch the band is a vertical bar from the min to the max (a band of
    one point has no area). The line's gid is ``mean:<gid>`` and the band's
    ``band:<gid>``, so tests and tools can find them.
    """
    mean, low, high = values.mean(axis=0), values.min(axis=0), values.max(axis=0)
    if len(epochs) == 1:
        band = ax.vlines(epochs, low, high, color=color, alpha=0.35, linewidth=8)
    else:
        band = ax.fill_between(epochs, low, high, color=color, alpha=0.2, linewidth=0)
    band.set_gid(f"band:{gid}")
    (line,) = ax.plot(
        epochs, mean, color=color, linestyle=linestyle, marker=marker, markersize=4, label=label
    )
    line.set_gid(f"mean:{gid}")


def epoch_axis(ax: Axes, first: int, last: int) -> None:
    """Show epochs ``first`` to ``last`` with whole-number ticks and room for the markers.

    One epoch gets half an epoch on each side (never the singular range matplotlib
    warns about); more get a small margin, so no end marker is cut in half.

    Example:
        >>> from tinyconv.plots._style import new_figure
        >>> ax = new_figure(3, 2).subplots()
        >>> epoch_axis(ax, 1, 1)
        >>> [float(limit) for limit in ax.get_xlim()]
        [0.5, 1.5]
    """
    pad = 0.5 if first == last else max(0.2, 0.02 * (last - first))
    ax.set_xlim(first - pad, last + pad)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def legend_below(
    ax: Axes, handles: list[Any] | None = None, labels: list[str] | None = None
) -> None:
    """Put ``ax``'s legend in one row under the axes, where it can hide no data."""
    if handles is None or labels is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=min(len(labels), 3),
        borderaxespad=0.0,
    )


def note_cut_off(ax: Axes, values: Sequence[np.ndarray], floor: float) -> None:
    """Write in the axes' lower right when some values lie below the zoomed floor."""
    if any(float(np.min(v)) < floor for v in values):
        ax.text(
            0.01,
            0.98,
            f"values below {floor:g} % (early epochs) are off the axis",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            color="#444444",
        )


def draw_target(ax: Axes, target: float | None) -> None:
    """Draw the target accuracy as a horizontal dash-dot line labelled in the legend."""
    if target is not None:
        line = ax.axhline(
            100 * target,
            color=TARGET_COLOR,
            linestyle="-.",
            linewidth=1.2,
            label=f"target {100 * target:.1f} %",
        )
        line.set_gid("target")


def plain_log_ticks(axis: Any, limits: tuple[float, float]) -> None:
    """Label a log axis with plain numbers, and only as many minor ticks as stay apart.

    Over less than a decade (``limits``, the axis's view) the minor ticks at 2, 3 and 5
    times a power of ten are labelled, over less than two decades those at 2 and 5, over
    more none: labels at 0.08, 0.09 and 0.1 would overlap, those at 0.05 and 0.1 do not.
    A view so narrow that it holds at most one such tick gets matplotlib's evenly spaced
    ticks instead, all labelled.

    Example:
        >>> from tinyconv.plots._style import new_figure
        >>> ax = new_figure(3, 2).subplots()
        >>> ax.set_yscale("log")
        >>> plain_log_ticks(ax.yaxis, (0.05, 0.2))  # less than a decade
        >>> label = ax.yaxis.get_minor_formatter()
        >>> [label(tick) for tick in (0.05, 0.06, 0.07, 0.08, 0.09, 0.2, 0.3)]
        ['0.05', '', '', '', '', '0.2', '0.3']
    """
    axis.set_major_formatter(PLAIN)
    low, high = sorted(limits)
    if not low > 0:
        axis.set_minor_formatter(NullFormatter())
        return
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    log_ticks = sum(1 for d in decades for k in range(1, 10) if low <= k * 10.0**d <= high)
    if log_ticks <= 1:  # matplotlib falls back to evenly spaced ticks here
        axis.set_minor_formatter(PLAIN)
    elif high / low < 10:
        axis.set_minor_formatter(SOME_MINOR)
    elif high / low < 100:
        axis.set_minor_formatter(FEW_MINOR)
    else:
        axis.set_minor_formatter(NullFormatter())


def padded_log_limits(values: np.ndarray) -> tuple[float, float]:
    """Log-axis limits around positive ``values``: a factor 1.6 of room on each side.

    A constant (one learning rate for the whole run) gets the same room, not the wide
    range matplotlib's autoscale gives a flat line.

    Example:
        >>> [round(v, 4) for v in padded_log_limits(np.array([0.1, 0.1]))]
        [0.0625, 0.16]
    """
    positive = values[values > 0]
    if not positive.size:
        return 0.1, 1.0
    return float(positive.min()) / 1.6, float(positive.max()) * 1.6


def learning_curves(
    results: ResultsLike,
    *,
    target: float | Literal["dataset"] | None = "dataset",
    dataset: str | None = None,
) -> Figure:
    """Draw a recipe's accuracy and loss per epoch over all its seeds.

    Left: training (dashed) and test (solid) accuracy in %, mean over seeds with the
    min–max band, and the target line; the axis is zoomed to the later epochs. Right:
    the two losses on a log axis, and the learning rate (dotted) on a second log axis.

    Args:
        results: A results file path or its content.
        target: Target accuracy as a fraction; ``"dataset"`` (the default) takes the
            target of the results' dataset from the dataset registry (99.4 % for MNIST,
            none if it has none); ``None`` for no line.
        dataset: Name of the data for the title (default: the display name of the
            results' dataset).

    Returns:
        The figure (1 row, 2 axes plus the learning-rate twin).

    Raises:
        ReportInputError: If the results hold no usable seed (see :func:`seed_curves`).

    Example:
        >>> fig = learning_curves("results/mnist_v5.json")
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['accuracy (%)', 'loss (cross-entropy, log scale)', 'learning rate (log scale)']
    """
    data = read_results(results)
    if target == "dataset":
        target = results_target(data)
    if dataset is None:
        info = results_dataset(data)
        dataset = "its dataset" if info is None else info.display_name
    curves = seed_curves(data)
    train_acc, eval_acc = 100 * curves.train_acc, 100 * curves.eval_acc
    seeds = len(curves.seeds)
    with style():
        fig = new_figure(11, 4.2)
        acc_ax, loss_ax = fig.subplots(1, 2)
        draw_band(
            acc_ax,
            curves.epochs,
            train_acc,
            color=TRAIN_COLOR,
            label="train",
            gid="train_acc",
            linestyle="--",
            marker="s",
        )
        draw_band(
            acc_ax,
            curves.epochs,
            eval_acc,
            color=TEST_COLOR,
            label=curves.eval_name,
            gid=f"{curves.eval_name}_acc",
        )
        draw_target(acc_ax, target)
        floor = accuracy_floor([train_acc, eval_acc], target)
        acc_ax.set_ylim(floor, 100.0)
        note_cut_off(acc_ax, [train_acc, eval_acc], floor)
        acc_ax.set_xlabel("epoch")
        acc_ax.set_ylabel("accuracy (%)")
        acc_ax.set_title("Accuracy per epoch")
        legend_below(acc_ax)

        draw_band(
            loss_ax,
            curves.epochs,
            curves.train_loss,
            color=TRAIN_COLOR,
            label="train loss",
            gid="train_loss",
            linestyle="--",
            marker="s",
        )
        draw_band(
            loss_ax,
            curves.epochs,
            curves.eval_loss,
            color=TEST_COLOR,
            label=f"{curves.eval_name} loss",
            gid=f"{curves.eval_name}_loss",
        )
        loss_ax.set_yscale("log")
        loss_ax.set_xlabel("epoch")
        loss_ax.set_ylabel("loss (cross-entropy, log scale)")
        loss_ax.set_title("Loss and learning rate per epoch")
        lr_ax = loss_ax.twinx()
        lr_ax.grid(False)
        lr_ax.spines["right"].set_visible(True)
        lr = curves.lr.mean(axis=0)
        if len(curves.epochs) == 1:  # a step of one point draws nothing: a marker instead
            (lr_line,) = lr_ax.plot(
                curves.epochs, lr, color=LR_COLOR, marker="x", linestyle="none",
                label="learning rate (epoch start)",
            )  # fmt: skip
        else:
            (lr_line,) = lr_ax.step(
                curves.epochs, lr, where="post", color=LR_COLOR, linestyle=":",
                linewidth=1.8, label="learning rate (epoch start)",
            )  # fmt: skip
        lr_line.set_gid("lr")
        lr_ax.set_yscale("log")
        lr_ax.set_ylim(*padded_log_limits(curves.lr))
        lr_ax.set_ylabel("learning rate (log scale)")
        handles = loss_ax.get_legend_handles_labels()
        lr_handles = lr_ax.get_legend_handles_labels()
        legend_below(loss_ax, handles[0] + lr_handles[0], handles[1] + lr_handles[1])
        for ax in (acc_ax, loss_ax):
            epoch_axis(ax, int(curves.epochs[0]), int(curves.epochs[-1]))
        plain_log_ticks(loss_ax.yaxis, loss_ax.get_ylim())
        plain_log_ticks(lr_ax.yaxis, lr_ax.get_ylim())
        bands = "mean line and min-max band over seeds" if seeds > 1 else "so no band"
        fig.suptitle(
            f"{curves.name} on {dataset}: {seeds} seed{'s' if seeds != 1 else ''}, {bands} "
            f"({curves.eval_name} = the {curves.eval_name} set)"
        )
    return fig
