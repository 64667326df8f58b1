"""``summary`` on a user's own ``nn.Module``: one row per tinyconv block and per leaf layer.

The law: wrapping a TinyNet's blocks in containers of one's own (nested ``nn.Sequential``,
a custom module with a hand-written ``forward``) changes the row names and nothing else.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS, NetCase, net_cases
from torch import nn

from tinyconv import (
    ConvBlock,
    ConvSpec,
    GAPHead,
    GAPHeadSpec,
    SESpec,
    SqueezeExcite,
    Transition,
    TransitionSpec,
    build,
    count_parameters,
    summary,
)
from tinyconv.device_costs import int8_weight_bytes


class Chain(nn.Module):
    """A user's container whose forward calls its children in a loop (not a Sequential)."""

    def __init__(self, *blocks: nn.Module) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x


class Mine(nn.Module):
    """The issue's model: tinyconv blocks and plain torch layers in a module of one's own."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(ConvBlock(1, 8), nn.Sequential(ConvBlock(8, 16)))
        self.se = SqueezeExcite(16, rd_channels=4)
        self.down = Transition(16, 8)
        self.body = nn.Sequential(nn.Conv2d(8, 16, 3, bias=False), nn.ReLU(), nn.BatchNorm2d(16))
        self.head = GAPHead(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.down(self.se(self.stem(x)))))


def row_facts(table) -> list[tuple]:  # everything but the name
    return [
        (row.type, row.output_shape, row.params, row.receptive_field, row.macs)
        for row in table.rows
    ]


def test_a_users_module_gets_a_row_per_block_and_per_leaf_layer() -> None:
    model = Mine()
    table = summary(model, input_size=(1, 28, 28))
    assert [(r.name, r.type, r.output_shape, r.params, r.receptive_field) for r in table.rows] == [
        ("stem.0", "ConvBlock", (8, 26, 26), 72 + 16, 3),
        ("stem.1.0", "ConvBlock", (16, 24, 24), 1152 + 32, 5),
        ("se", "SqueezeExcite", (16, 24, 24), 16 * 4 + 4 + 4 * 16 + 16, 5),
        ("down", "Transition", (8, 12, 12), 128, 6),
        ("body.0", "Conv2d", (16, 10, 10), 1152, 10),
        ("body.1", "ReLU", (16, 10, 10), 0, 10),
        ("body.2", "BatchNorm2d", (16, 10, 10), 32, 10),
        ("head", "GAPHead", (10,), 160, "global"),
    ]
    assert [row.macs for row in table.rows] == [
        26 * 26 * 8 * 9,
        24 * 24 * 16 * 8 * 9,
        16 * 4 + 4 * 16,
        12 * 12 * 8 * 16,
        10 * 10 * 16 * 8 * 9,
        0,
        0,
        16 * 10,
    ]
    assert sum(row.params for row in table.rows) == table.total_params == count_parameters(model)
    # SE's product: its input map, the gate and the output map alive at once
    assert table.peak_activation_bytes == 4 * (16 * 24 * 24 + 16 + 16 * 24 * 24)
    assert all(peak is not None for peak in table.layer_peak_activation_bytes)
    assert sum(table.layer_int8_weight_bytes) == table.int8_weight_bytes
    assert table.int8_weight_bytes == int8_weight_bytes(model)
    lines = str(table).splitlines()
    assert sum(line.startswith(("stem", "se", "down", "body", "head")) for line in lines) == 8


def test_the_same_blocks_in_a_tinynet_give_the_same_rows() -> None:
    specs = (
        ConvSpec(out_channels=8),
        ConvSpec(out_channels=16),
        SESpec(rd_channels=4),
        TransitionSpec(out_channels=8),
        GAPHeadSpec(num_classes=10),
    )
    net = build(specs, seed=0)
    mine = nn.Sequential(
        OrderedDict(stem=nn.Sequential(net.conv1, net.conv2), rest=Chain(net.se1, net.trans1)),
    )
    mine.add_module("head", net.head)
    ours, theirs = summary(mine, input_size=(1, 28, 28)), summary(net)
    assert [row.name for row in ours.rows] == [
        "stem.0",
        "stem.1",
        "rest.blocks.0",
        "rest.blocks.1",
        "head",
    ]
    assert row_facts(ours) == row_facts(theirs)
    assert ours.layer_peak_activation_bytes == theirs.layer_peak_activation_bytes
    assert ours.layer_int8_weight_bytes == theirs.layer_int8_weight_bytes


@PROPERTY_SETTINGS
@given(case=net_cases(), data=st.data())
def test_wrapping_blocks_in_containers_changes_only_the_names(
    case: NetCase, data: st.DataObject
) -> None:
    net = build(case.specs, in_channels=case.in_channels, input_size=case.input_size)
    blocks = list(net.children())
    cut = data.draw(st.integers(0, len(blocks)))
    wrapped = nn.Sequential(nn.Sequential(*blocks[:cut]), Chain(*blocks[cut:]))
    shape = (case.in_channels, *case.input_size)
    for depth in (1, 2):
        ours, theirs = summary(wrapped, shape, depth=depth), summary(net, depth=depth)
        assert row_facts(ours) == row_facts(theirs)
        assert ours.total_macs == theirs.total_macs
        assert ours.layer_int8_weight_bytes == theirs.layer_int8_weight_bytes
        assert ours.layer_peak_activation_bytes == theirs.layer_peak_activation_bytes


def test_depth_two_opens_the_sequential_blocks_of_a_users_module() -> None:
    names = [row.name for row in summary(Mine(), input_size=(1, 28, 28), depth=2).rows]
    assert names[:4] == ["stem.0.conv", "stem.0.act", "stem.0.norm", "stem.1.0.conv"]
    assert "se" in names and "down.pool" in names and "down.conv" in names
    assert names[-1] == "head"


class Functional(nn.Module):
    """Code between the layers: a functional ReLU and a residual sum hide the field."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.pool = nn.MaxPool2d(2)
        self.res = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 13 * 13, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(torch.relu(self.conv(x)))  # relu: a new tensor no row produced
        x = x + self.res(x)  # the sum: also no row's output
        return self.fc(x.flatten(1))


def test_receptive_field_is_empty_where_the_code_between_rows_hides_it() -> None:
    table = summary(Functional(), input_size=(1, 28, 28))
    fields = {row.name: row.receptive_field for row in table.rows}
    assert fields == {"conv": 3, "pool": None, "res": None, "fc": "global"}
    pool_line = next(line for line in str(table).splitlines() if line.startswith("pool"))
    assert "None" not in pool_line and "global" not in pool_line
    assert table.rows[1].output_shape == (4, 13, 13)
    assert table.total_macs == 26 * 26 * 4 * 9 + 13 * 13 * 4 * 4 * 9 + 4 * 13 * 13 * 10


def test_a_row_reached_twice_with_different_fields_has_none() -> None:
    shared = nn.Conv2d(2, 2, 3, padding=1)
    table = summary(nn.Sequential(shared, nn.ReLU(), shared), input_size=(2, 8, 8))
    assert [(row.name, row.receptive_field) for row in table.rows] == [("0", None), ("1", 3)]


@pytest.mark.parametrize("model", [nn.Conv2d(1, 2, 3), nn.Sequential()])
def test_a_single_layer_or_an_empty_container(model: nn.Module) -> None:
    table = summary(model, input_size=(1, 5, 5))
    assert table.total_params == count_parameters(model)
    assert len(table.rows) == 1
