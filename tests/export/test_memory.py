"""Peak activation memory: the liveness law on nets small enough to count by hand."""

from __future__ import annotations

import torch
from torch import nn

import tinyconv
from tinyconv import ConvSpec, GAPHeadSpec, SESpec
from tinyconv.device_costs import activation_steps, int8_weight_bytes, peak_activation_elements


def test_chain_peak_is_the_largest_input_plus_output() -> None:
    # 1x8x8 -> conv 4x6x6 -> relu -> pool 4x3x3 -> flatten (a view) -> linear 5
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 5)
    )
    steps = activation_steps(net, (1, 8, 8))
    assert [s.live_elements for s in steps] == [
        64 + 144,  # conv: input and output alive together
        144 + 144,  # relu: conv output freed only after it
        144 + 36,  # pool
        36,  # flatten shares the pool output
        36 + 5,  # linear
    ]
    assert peak_activation_elements(net, (1, 8, 8)) == 288


def test_a_tensor_read_twice_stays_alive_until_its_last_reader() -> None:
    # SE reads its input twice (the mean and the final product): the map stays alive.
    net = tinyconv.build(
        [ConvSpec(out_channels=4, norm=False), SESpec(rd_channels=2), GAPHeadSpec(num_classes=3)],
        input_size=(6, 6),
    )
    steps = {s.node: s.live_elements for s in activation_steps(net, (1, 6, 6))}
    conv_out = 4 * 4 * 4  # 4x4x4 after a 3x3 conv on 6x6
    # at the gate's sigmoid: relu output (read later by mul) + expand output + gate output
    assert steps["se1_gate"] == conv_out + 4 + 4
    # at the product: relu output + gate + product
    assert steps["mul"] == conv_out + 4 + conv_out


def test_summary_columns_and_totals() -> None:
    model = tinyconv.build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=10)])
    table = tinyconv.summary(model)
    assert table.peak_activation_bytes == 4 * (2 * 8 * 26 * 26)  # relu's input and output
    assert table.layer_peak_activation_bytes == (4 * 2 * 5408, 4 * (5408 + 8))
    # conv weight 72 B + 8 scales x 4 B, BN affine 16 x 4 B; head 80 B + 10 x 4 B
    assert table.layer_int8_weight_bytes == (72 + 32 + 64, 80 + 40)
    assert table.int8_weight_bytes == sum(table.layer_int8_weight_bytes) == int8_weight_bytes(model)
    text = str(table)
    assert "Peak act" in text and "Int8 W" in text
    assert "Peak activation memory (batch 1, fp32): 43,264 bytes" in text


def test_untraceable_model_has_no_peak_but_a_summary() -> None:
    class Branchy(nn.Sequential):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = super().forward(x)
            return y if y.sum() > 0 else -y

    table = tinyconv.summary(Branchy(nn.Conv2d(1, 2, 3)), input_size=(1, 5, 5))
    assert table.peak_activation_bytes is None
    assert "Peak activation memory (batch 1, fp32): - bytes" in str(table)
