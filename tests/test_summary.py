import pytest
import torch
from hypothesis import given
from strategies import PROPERTY_SETTINGS, NetCase, net_cases
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from tinyconv import (
    ConvSpec,
    GAPHeadSpec,
    ModelSummary,
    SESpec,
    SummaryRow,
    TransitionSpec,
    build,
    count_parameters,
    summary,
)
from tinyconv.summary import COUNTING_NOTE

SMALL_NET = (
    ConvSpec(out_channels=8),
    ConvSpec(out_channels=16),
    SESpec(rd_channels=4),
    TransitionSpec(out_channels=8, norm=True),
    ConvSpec(out_channels=16, dropout=0.1),
    GAPHeadSpec(num_classes=10),
)


def flop_counter_macs(model: nn.Module, shape: tuple[int, ...]) -> int:
    """MACs of one image according to torch's FLOP counter (2 FLOPs per MAC).

    In this torch version FlopCounterMode counts only matmul/convolution-like ops
    (elementwise work, pooling and means are not counted), which is also what
    ``summary`` counts, so totals can be compared directly.
    """
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.randn(1, *shape))
    counted = {str(op).split(".")[-1] for op in counter.get_flop_counts()["Global"]}
    assert counted <= {"convolution", "mm", "addmm"}, counted
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def build_case(case: NetCase) -> nn.Module:
    return build(case.specs, in_channels=case.in_channels, input_size=case.input_size)


@PROPERTY_SETTINGS
@given(case=net_cases())
def test_totals_rows_and_macs(case: NetCase) -> None:
    model = build_case(case)
    total = count_parameters(model)
    for depth in (1, 2, 3):
        table = summary(model, depth=depth)
        assert table.total_params == total
        assert table.trainable_params == total
        assert sum(row.params for row in table.rows) == total
        assert table.total_macs == sum(row.macs for row in table.rows)
        if depth == 1:
            assert [row.name for row in table.rows] == [n for n, _ in model.named_children()]
    assert summary(model).total_macs == flop_counter_macs(
        model, (case.in_channels, *case.input_size)
    )


def test_rows_for_a_known_net() -> None:
    model = build(SMALL_NET)
    table = summary(model)
    assert isinstance(table, ModelSummary)
    assert all(isinstance(row, SummaryRow) for row in table.rows)
    assert table.input_shape == (1, 28, 28)
    assert [(r.name, r.type, r.output_shape, r.params, r.receptive_field) for r in table.rows] == [
        ("conv1", "ConvBlock", (8, 26, 26), 72 + 16, 3),
        ("conv2", "ConvBlock", (16, 24, 24), 1152 + 32, 5),
        ("se1", "SqueezeExcite", (16, 24, 24), 2 * 16 * 4 + 4 + 16, 5),
        ("trans1", "Transition", (8, 12, 12), 128 + 16, 6),
        ("conv3", "ConvBlock", (16, 10, 10), 1152 + 32, 10),
        ("head", "GAPHead", (10,), 160, "global"),
    ]
    assert [row.macs for row in table.rows] == [
        26 * 26 * 8 * 9,
        24 * 24 * 16 * 8 * 9,
        4 * 16 + 16 * 4,
        12 * 12 * 8 * 16,
        10 * 10 * 16 * 8 * 9,
        10 * 16,
    ]
    assert table.total_macs == flop_counter_macs(model, (1, 28, 28))


def test_depth_two_and_three_rows() -> None:
    model = build(SMALL_NET)
    names_2 = [row.name for row in summary(model, depth=2).rows]
    assert names_2[:3] == ["conv1.conv", "conv1.act", "conv1.norm"]
    assert "trans1.pool" in names_2 and "trans1.conv" in names_2
    # Only nn.Sequential blocks open up: SE and GAP heads compute between their children.
    assert "se1" in names_2 and "se1.reduce" not in names_2 and names_2[-1] == "head"
    rows_3 = {row.name: row for row in summary(model, depth=3).rows}
    assert rows_3["trans1.conv.conv"].type == "Conv2d"
    assert rows_3["trans1.conv.norm"].params == 16
    assert rows_3["trans1.pool"].output_shape == (16, 12, 12)
    assert rows_3["conv3.drop"].type == "Dropout"


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth must be >= 1, got 0"):
        summary(build(SMALL_NET), depth=0)


@pytest.mark.parametrize("depth", [2, 3])
def test_gap_head_is_global_at_every_depth(depth: int) -> None:
    rows = summary(build(SMALL_NET), depth=depth).rows
    assert rows[-1].receptive_field == "global"


@pytest.mark.parametrize("training", [True, False])
def test_summary_leaves_modes_and_batch_norm_statistics_alone(training: bool) -> None:
    torch.manual_seed(0)
    model = build(SMALL_NET)
    model.train(training)
    model.conv2.norm.train(not training)  # a mixed state must survive too
    model(torch.randn(4, 1, 28, 28))  # non-trivial running statistics
    modes = {name: module.training for name, module in model.named_modules()}
    buffers = {name: buffer.clone() for name, buffer in model.named_buffers()}
    assert any(name.endswith("num_batches_tracked") for name in buffers)
    summary(model, depth=2)
    summary(model)
    assert {name: module.training for name, module in model.named_modules()} == modes
    for name, buffer in model.named_buffers():
        torch.testing.assert_close(buffer, buffers[name], rtol=0, atol=0, msg=name)


def test_plain_sequential_needs_input_size() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    with pytest.raises(
        ValueError, match=r"a Sequential does not say its input shape; pass input_size=\(C, H, W\)"
    ):
        summary(net)
    table = summary(net, input_size=(3, 8, 8))
    assert [row.output_shape for row in table.rows] == [(4, 6, 6), (4, 6, 6), (144,), (2,)]
    assert table.rows[0].receptive_field == 3
    assert table.total_params == count_parameters(net)
    assert table.total_macs == 4 * 6 * 6 * 3 * 9 + 2 * 144
    assert table.total_macs == flop_counter_macs(net, (3, 8, 8))
    with pytest.raises(ValueError, match=r"input_size must be \(C, H, W\) for one image"):
        summary(net, input_size=(8, 8))


def test_other_row_for_parameters_above_the_display_depth() -> None:
    class Scaled(nn.Sequential):
        def __init__(self) -> None:
            super().__init__(nn.Conv2d(1, 2, 3))
            self.scale = nn.Parameter(torch.ones(2, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) * self.scale

    table = summary(nn.Sequential(Scaled()), input_size=(1, 5, 5), depth=2)
    assert [row.name for row in table.rows] == ["0.0", "(other)"]
    assert [row.params for row in table.rows] == [20, 2]
    assert table.total_params == 22


def test_frozen_parameters_in_totals() -> None:
    model = build(SMALL_NET)
    model.conv1.requires_grad_(False)
    table = summary(model)
    assert table.total_params - table.trainable_params == 88
    assert f"Trainable params: {table.trainable_params:,}" in str(table)


def test_to_dicts() -> None:
    table = summary(build(SMALL_NET))
    dicts = table.to_dicts()
    assert len(dicts) == len(table.rows)
    assert dicts[0] == {
        "name": "conv1",
        "type": "ConvBlock",
        "output_shape": (8, 26, 26),
        "params": 88,
        "receptive_field": 3,
        "macs": 26 * 26 * 8 * 9,
        "pruned": 0,
    }
    assert dicts[-1]["receptive_field"] == "global"


def test_str_contains_table_totals_and_counting_note() -> None:
    table = summary(build(SMALL_NET))
    text = str(table)
    lines = text.splitlines()
    assert lines[0] == "Input: 1x28x28"
    assert f"Total params: {table.total_params:,}" in text
    assert f"MACs per image: {table.total_macs:,}" in text
    assert COUNTING_NOTE in text
    assert "running statistics" in text and "BatchNorm affine weights count" in text
    head_line = next(line for line in lines if line.startswith("head"))
    assert "global" in head_line and "GAPHead" in head_line
    conv2_line = next(line for line in lines if line.startswith("conv2"))
    assert "16x24x24" in conv2_line and "1,184" in conv2_line


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_layer_reused_in_one_container_macs_match_flop_counter(depth: int) -> None:
    shared = nn.Conv2d(4, 4, 3, padding=1)
    net = nn.Sequential(shared, nn.ReLU(), shared)  # named_children() lists `shared` once
    table = summary(net, input_size=(4, 6, 6), depth=depth)
    assert [row.name for row in table.rows] == ["0", "1"]
    assert table.total_params == count_parameters(net) == 148
    assert table.total_macs == flop_counter_macs(net, (4, 6, 6)) == 2 * 36 * 4 * 4 * 9


@pytest.mark.parametrize("depth", [1, 2])
def test_layer_shared_by_two_rows_counts_in_the_first_only(depth: int) -> None:
    shared = nn.Conv2d(4, 4, 3, padding=1)
    net = nn.Sequential(nn.Sequential(shared, nn.ReLU()), nn.Sequential(shared, nn.Tanh()))
    table = summary(net, input_size=(4, 8, 8), depth=depth)
    holders = [row.params for row in table.rows if row.type in ("Sequential", "Conv2d")]
    assert holders == [148, 0]
    assert sum(row.params for row in table.rows) == table.total_params == 148


def test_shared_layer_in_two_blocks_macs_match_flop_counter() -> None:
    shared = nn.Conv2d(4, 4, 3, padding=1)
    net = nn.Sequential(nn.Sequential(shared, nn.ReLU()), nn.Sequential(shared, nn.ReLU()))
    table = summary(net, input_size=(4, 8, 8))
    assert table.total_macs == flop_counter_macs(net, (4, 8, 8))
