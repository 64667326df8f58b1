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
from matplotlib.ticker import FuncFormatter, NullFormatter

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
from tinyconv.study.seed_stats import results_target
from tinyconv.train.history import History

__all__ = ["SeedCurves", "learning_curves", "read_results", "seed_curves"]

PLAIN = FuncFormatter(lambda value, _: f"{value:g}")
"""Tick labels of log axes as plain numbers (0.03, not 3 x 10^-2)."""

SOME_MINOR = FuncFormatter(
    lambda value, _: (
        f"{value:g}" if round(value / 10 ** math.floor(math.log10(value)), 6) in (2, 3, 5) else ""
    )
)
"""Minor tick labels of log axes at 2, 3 and 5 times a power of ten only."""

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
    marker: str | None = None,
) -> None:
    """Draw the mean over seeds (rows) as a line and the min–max over seeds as a band.

    The line's gid is ``mean:<gid>`` and the band's ``band:<gid>``, so tests and tools
    can find them.
    """
    mean, low, high = values.mean(axis=0), values.min(axis=0), values.max(axis=0)
    band = ax.fill_between(epochs, low, high, color=color, alpha=0.2, linewidth=0)
    band.set_gid(f"band:{gid}")
    (line,) = ax.plot(
        epochs, mean, color=color, linestyle=linestyle, marker=marker, markersize=4, label=label
    )
    line.set_gid(f"mean:{gid}")


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


def plain_log_ticks(axis: Any, values: np.ndarray) -> None:
    """Label a log axis with plain numbers, and as many minor ticks as stay legible.

    Every minor tick is labelled over less than a decade, those at 2, 3 and 5 times a
    power of ten over less than two decades, none over more.
    """
    axis.set_major_formatter(PLAIN)
    positive = values[values > 0]
    span = float(positive.max() / positive.min()) if positive.size else math.inf
    if span < 10:
        axis.set_minor_formatter(PLAIN)
    elif span < 100:
        axis.set_minor_formatter(SOME_MINOR)
    else:
        axis.set_minor_formatter(NullFormatter())


def learning_curves(
    results: ResultsLike,
    *,
    target: float | Literal["dataset"] | None = "dataset",
    dataset: str = "MNIST",
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
        dataset: Name of the data for the title.

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
        acc_ax.legend(loc="lower right")

        draw_band(
            loss_ax,
            curves.epochs,
            curves.train_loss,
            color=TRAIN_COLOR,
            label="train loss",
            gid="train_loss",
            linestyle="--",
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
        (lr_line,) = lr_ax.step(
            curves.epochs,
            curves.lr.mean(axis=0),
            where="post",
            color=LR_COLOR,
            linestyle=":",
            linewidth=1.8,
            label="learning rate (epoch start)",
        )
        lr_line.set_gid("lr")
        lr_ax.set_yscale("log")
        lr_ax.set_ylabel("learning rate (log scale)")
        handles = loss_ax.get_legend_handles_labels()
        lr_handles = lr_ax.get_legend_handles_labels()
        loss_ax.legend(
            handles[0] + lr_handles[0],
            handles[1] + lr_handles[1],
            loc="upper right",
            frameon=True,
            framealpha=0.92,
            edgecolor="#cccccc",
        )
        losses = np.concatenate([curves.train_loss.ravel(), curves.eval_loss.ravel()])
        plain_log_ticks(loss_ax.yaxis, losses)
        plain_log_ticks(lr_ax.yaxis, curves.lr)
        for ax in (acc_ax, loss_ax):
            ax.set_xlim(curves.epochs[0], curves.epochs[-1])
            ax.xaxis.get_major_locator().set_params(integer=True)
        fig.suptitle(
            f"{curves.name} on {dataset}: {seeds} seed{'s' if seeds != 1 else ''}, mean line "
            f"and min-max band over seeds ({curves.eval_name} = the {curves.eval_name} set)"
        )
    return fig
