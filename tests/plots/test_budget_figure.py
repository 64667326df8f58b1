"""The budget figure of a user's own module: the same rows as ``summary``."""

from __future__ import annotations

import matplotlib
import pytest
import torch
from torch import nn

import tinyconv as tc
from tinyconv.plots import budget_figure

matplotlib.use("Agg")


class Mine(nn.Module):
    """tinyconv blocks and plain layers, one functional ReLU hiding a receptive field."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(tc.ConvBlock(1, 8), nn.Sequential(tc.Transition(8, 8)))
        self.se = tc.SqueezeExcite(8, rd_channels=2)
        self.conv = nn.Conv2d(8, 12, 3)
        self.pool = nn.MaxPool2d(2)
        self.head = tc.GAPHead(12, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(self.se(self.stem(x))))
        return self.head(self.pool(x))


def test_budget_figure_of_a_users_module_has_a_bar_per_summary_row() -> None:
    model = Mine()
    table = tc.summary(model, input_size=(1, 28, 28))
    fig = budget_figure(model, budget=3000, input_size=(1, 28, 28))
    param_ax, mac_ax, rf_ax = fig.axes
    labels = [label.get_text() for label in param_ax.get_yticklabels()]
    assert labels == [
        "stem.0 (ConvBlock)",
        "stem.1.0 (Transition)",
        "se (SqueezeExcite)",
        "conv (Conv2d)",
        "pool (MaxPool2d)",
        "head (GAPHead)",
    ]
    widths = [p.get_width() for p in param_ax.patches if p.get_gid() == "params"]
    assert widths == [row.params for row in table.rows]
    assert sum(widths) == tc.count_parameters(model)
    assert [1000 * p.get_width() for p in mac_ax.patches] == pytest.approx(
        [row.macs for row in table.rows]
    )
    # conv: 3 -> 4 (pool) -> 4 (SE) -> 8; pool follows a functional relu: no bar, "unknown"
    assert [row.receptive_field for row in table.rows] == [3, 4, 4, 8, None, "global"]
    assert [p.get_width() for p in rf_ax.patches] == [3, 4, 4, 8, 28]
    assert [t.get_text() for t in rf_ax.texts if t.get_text().endswith(("px", "own", "bal"))][
        :6
    ] == ["3 px", "4 px", "4 px", "8 px", "unknown", "global"]


def test_budget_figure_of_a_users_module_needs_its_input_size() -> None:
    with pytest.raises(
        ValueError, match=r"a Mine does not say its input shape; pass input_size=\(C, H, W\)"
    ):
        budget_figure(Mine())
