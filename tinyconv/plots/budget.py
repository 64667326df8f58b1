"""Where the parameters go: parameters, MACs and receptive field per layer of a model.

Read from :func:`tinyconv.summary`, so any model gets the rows it gets there (one per
tinyconv block and per plain leaf layer, also in a user's own ``nn.Module``): the
parameter panel shows each layer's parameters as bars and the running total as a line
against the budget, so one sees both which layer is expensive and how close the whole
is to the limit. A layer whose receptive field cannot be derived gets no bar and the
label "unknown".
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from torch import nn

from tinyconv.plots._style import TARGET_COLOR, TEST_COLOR, new_figure, style
from tinyconv.summary import summary

__all__ = ["budget_figure"]

_BAR = "#3b528b"  # a dark viridis blue
_GLOBAL = "#9e9ac8"
_ROW_INCHES = 0.42  # height of one layer's row
_TOP_ROW_INCHES = 0.35  # the empty row above the first layer that holds the legend


def budget_figure(
    model: nn.Module,
    *,
    budget: int | None = None,
    model_name: str = "model",
    input_size: tuple[int, ...] | None = None,
) -> Figure:
    """Draw parameters (with the running total and the budget), MACs and receptive field per layer.

    Args:
        model: Any model :func:`tinyconv.summary` accepts.
        budget: The parameter limit to draw; ``None`` draws none.
        model_name: The model's name, for the title.
        input_size: Shape of one input image ``(C, H, W)``; optional for a TinyNet.

    Returns:
        The figure with three axes sharing the layer axis: parameters (bars gid
        ``params``, running total gid ``cumulative``, budget line gid ``budget``), MACs
        (``macs``) and receptive field in input pixels (``receptive_field``).

    Raises:
        ValueError: If ``budget`` is given and below 1, or ``input_size`` is missing
            for a model that does not remember it.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=10)])
        >>> fig = budget_figure(net, budget=200)
        >>> [int(patch.get_width()) for patch in fig.axes[0].patches]
        [88, 80]
    """
    if budget is not None and budget < 1:
        raise ValueError(f"budget must be a positive parameter count, got {budget}")
    table = summary(model, input_size)
    names = [f"{row.name} ({row.type})" for row in table.rows]
    params = np.array([row.params for row in table.rows], dtype=float)
    macs = np.array([row.macs for row in table.rows], dtype=float)
    side = max(table.input_shape[1:])
    fields = [row.receptive_field for row in table.rows]
    positions = np.arange(len(names))
    with style():
        fig = new_figure(14, 1.2 + _TOP_ROW_INCHES + _ROW_INCHES * len(names))
        param_ax, mac_ax, rf_ax = fig.subplots(1, 3, sharey=True, width_ratios=[1.3, 1, 1])
        bars = param_ax.barh(positions, params, color=_BAR, height=0.6, label="this layer")
        for patch in bars.patches:
            patch.set_gid("params")
        (total,) = param_ax.plot(
            np.cumsum(params),
            positions,
            color=TEST_COLOR,
            marker="o",
            markersize=4,
            label="running total",
        )
        total.set_gid("cumulative")
        if budget is not None:
            line = param_ax.axvline(
                budget, color=TARGET_COLOR, linestyle="-.", label=f"budget {budget:,}"
            )
            line.set_gid("budget")
        for y, value in zip(positions, params, strict=True):
            param_ax.annotate(
                f"{int(value):,}",
                (value, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
                zorder=5,
            )
        right = max(table.total_params, budget or 0) * 1.1
        param_ax.set_xlim(0, right)
        param_ax.set_xlabel("parameters")
        used = f" of {budget:,} ({100 * table.total_params / budget:.0f} %)" if budget else ""
        param_ax.set_title(f"Parameters: {table.total_params:,}{used}")
        param_ax.legend(  # in the empty row above the first layer: it hides no bar or point
            loc="upper left", ncol=3, frameon=True, framealpha=1.0, edgecolor="white",
            borderaxespad=0.2,
        )  # fmt: skip

        mac_bars = mac_ax.barh(positions, macs / 1e3, color=_BAR, height=0.6)
        for patch in mac_bars.patches:
            patch.set_gid("macs")
        for y, value in zip(positions, macs, strict=True):
            mac_ax.annotate(
                f"{value / 1e3:,.1f}",
                (value / 1e3, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        mac_ax.set_xlim(0, macs.max() / 1e3 * 1.25 if macs.max() else 1)
        mac_ax.set_xlabel("thousand multiply-accumulates per image")
        mac_ax.set_title(f"MACs per image: {table.total_macs / 1e6:.2f} million")

        for y, rf in zip(positions, fields, strict=True):
            width = 0 if rf is None else side if rf == "global" else int(rf)
            if rf is not None:
                color = _GLOBAL if rf == "global" else _BAR
                patch = rf_ax.barh(y, width, color=color, height=0.6)
                patch.patches[0].set_gid("receptive_field")
            rf_ax.annotate(
                "unknown" if rf is None else "global" if rf == "global" else f"{rf} px",
                (width, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        rf_ax.axvline(side, color="#666666", linestyle=":", linewidth=1.2)
        rf_ax.text(side, -0.6, f"input {side} px", ha="right", va="bottom", fontsize=8)
        rf_ax.set_xlim(0, side * 1.3)
        rf_ax.set_xlabel("receptive field side (input pixels)")
        rf_ax.set_title("Receptive field after each layer")

        param_ax.set_yticks(positions, names)
        param_ax.set_ylim(len(names) - 0.5, -0.5 - _TOP_ROW_INCHES / _ROW_INCHES)
        for ax in (param_ax, mac_ax, rf_ax):
            ax.grid(axis="y", visible=False)
        fig.suptitle(
            f"Budget per layer of {model_name} (input {'x'.join(map(str, table.input_shape))}; "
            "BatchNorm affine weights counted, running statistics not)"
        )
    return fig
