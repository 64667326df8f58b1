"""Peak activation memory: TFLite Micro's planner rule on nets small enough to count by hand."""

from __future__ import annotations

import torch
from hypothesis import assume, given
from strategies import PROPERTY_SETTINGS, NetCase, net_cases
from torch import nn
from torch.nn.utils import prune

import tinyconv
from tinyconv import ConvSpec, GAPHeadSpec, SESpec
from tinyconv.device_costs import activation_steps, int8_weight_bytes, peak_activation_elements
from tinyconv.export import fold_batchnorm
from tinyconv.recipes import get_recipe


def test_chain_peak_is_the_largest_input_plus_output() -> None:
    # 1x8x8 -> conv 4x6x6 -> relu -> pool 4x3x3 -> flatten (a view) -> linear 5
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 5)
    )
    steps = activation_steps(net, (1, 8, 8))
    assert [s.live_elements for s in steps] == [
        64 + 144,  # conv: input and output alive together
        144,  # relu: fused into the conv, it writes no buffer of its own
        144 + 36,  # pool
        36,  # flatten shares the pool output
        36 + 5,  # linear
    ]
    assert peak_activation_elements(net, (1, 8, 8)) == 208


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
    assert table.peak_activation_bytes == 4 * (28 * 28 + 8 * 26 * 26)  # conv's input and output
    assert table.layer_peak_activation_bytes == (4 * (784 + 5408), 4 * (5408 + 8))
    # conv weight 72 B + 8 scales x 4 B, BN affine 16 x 4 B; head 80 B + 10 x 4 B
    assert table.layer_int8_weight_bytes == (72 + 32 + 64, 80 + 40)
    assert table.int8_weight_bytes == sum(table.layer_int8_weight_bytes) == int8_weight_bytes(model)
    text = str(table)
    assert "Peak act" in text and "Int8 W" in text
    assert "Peak activation memory (batch 1, fp32): 24,768 bytes" in text


def test_untraceable_model_has_no_peak_but_a_summary() -> None:
    class Branchy(nn.Sequential):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = super().forward(x)
            return y if y.sum() > 0 else -y

    table = tinyconv.summary(Branchy(nn.Conv2d(1, 2, 3)), input_size=(1, 5, 5))
    assert table.peak_activation_bytes is None
    assert "Peak activation memory (batch 1, fp32): - bytes" in str(table)


def test_v5_int8_peak_follows_the_tflite_micro_planner_rule() -> None:
    # TFLite Micro measured 12,320 bytes of int8 activations for folded V5 (issue 22);
    # the rule that gave every ReLU and BatchNorm its own buffer said 13,824.
    v5 = get_recipe("mnist_v5").build_model(seed=0)
    steps = activation_steps(v5, (1, 28, 28))
    peak = max(steps, key=lambda s: s.live_elements)
    assert (peak.node, peak.live_elements) == ("conv2_conv", 8 * 26 * 26 + 12 * 24 * 24)
    assert peak_activation_elements(v5, (1, 28, 28)) == 12_320
    assert tinyconv.summary(v5).peak_activation_bytes == 4 * 12_320


def test_relu_gets_its_own_buffer_when_the_conv_output_is_read_again() -> None:
    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)
            self.act = nn.ReLU()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x)
            return self.act(y) + y  # y is read twice: no fusing, the sum reads both

    steps = {s.node: s.live_elements for s in activation_steps(Residual(), (2, 4, 4))}
    assert steps["act"] == 32 + 32  # conv output (still needed) and relu output
    assert steps["add"] == 32 + 32 + 32


def test_a_sigmoid_is_an_operation_of_its_own() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid())  # TFLite: CONV_2D then LOGISTIC
    assert [s.live_elements for s in activation_steps(net, (1, 5, 5))] == [25 + 18, 18 + 18]


def test_batch_norm_is_folded_unless_its_map_is_read_twice() -> None:
    before_conv = tinyconv.build(
        [ConvSpec(out_channels=4, order="conv-norm-act-drop"), GAPHeadSpec(num_classes=3)],
        input_size=(6, 6),
    )
    steps = {s.node: s.live_elements for s in activation_steps(before_conv, (1, 6, 6))}
    assert steps["conv1_norm"] == steps["conv1_act"] == 4 * 4 * 4  # one buffer: the conv's
    # Conv -> ReLU -> BN -> SE: SE reads the normalised map twice, so the BN stays an op.
    before_se = tinyconv.build(
        [ConvSpec(out_channels=4), SESpec(rd_channels=2), GAPHeadSpec(num_classes=3)],
        input_size=(6, 6),
    )
    steps = {s.node: s.live_elements for s in activation_steps(before_se, (1, 6, 6))}
    assert steps["conv1_norm"] == 2 * 4 * 4 * 4


@PROPERTY_SETTINGS
@given(case=net_cases())
def test_folding_the_batch_norms_does_not_change_the_peak(case: NetCase) -> None:
    # The estimate describes the deployed (folded) graph, so folding must not move it.
    model = tinyconv.build(case.specs, in_channels=case.in_channels, input_size=case.input_size)
    folded, report = fold_batchnorm(model.eval())
    assume(not report.kept)
    shape = (case.in_channels, *case.input_size)
    assert peak_activation_elements(folded, shape) == peak_activation_elements(model, shape)


def test_a_pruned_weight_is_still_an_int8_weight() -> None:
    model = tinyconv.build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=10)])
    dense = int8_weight_bytes(model)
    prune.l1_unstructured(model.conv1.conv, "weight", amount=0.5)  # now weight_orig + mask
    assert int8_weight_bytes(model) == dense == 72 + 8 * 4 + 16 * 4 + 80 + 10 * 4
    assert tinyconv.summary(model).layer_int8_weight_bytes == (72 + 32 + 64, 80 + 40)
