import itertools
import re

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS, conv_output_side
from torch import nn

from tinyconv.blocks import ConvBlock
from tinyconv.blocks.conv_block import parse_order
from tinyconv.specs import conv_output_size


def child_names(module: nn.Module) -> list[str]:
    return [name for name, _ in module.named_children()]


def test_smoke_defaults() -> None:
    block = ConvBlock(1, 8)
    assert child_names(block) == ["conv", "act", "norm"]
    assert block.order == "conv-act-norm-drop"
    assert block.in_channels == 1 and block.out_channels == 8
    assert block(torch.zeros(2, 1, 28, 28)).shape == (2, 8, 26, 26)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("conv-act-norm-drop", ["conv", "act", "norm", "drop"]),
        ("conv-norm-act-drop", ["conv", "norm", "act", "drop"]),
    ],
)
def test_declared_order_is_child_order(order: str, expected: list[str]) -> None:
    block = ConvBlock(3, 4, dropout=0.2, order=order)
    assert child_names(block) == expected
    types = [type(child) for child in block.children()]
    by_name = {"conv": nn.Conv2d, "norm": nn.BatchNorm2d, "act": nn.ReLU, "drop": nn.Dropout}
    assert types == [by_name[name] for name in expected]


@pytest.mark.parametrize("parts", list(itertools.permutations(("conv", "norm", "act", "drop"))))
def test_any_permutation_is_honoured(parts: tuple[str, ...]) -> None:
    order = "-".join(parts)
    assert parse_order(order) == parts
    block = ConvBlock(2, 3, activation="silu", dropout=0.1, order=order)
    assert child_names(block) == list(parts)
    assert block.order == order


def test_switched_off_parts_are_not_created() -> None:
    block = ConvBlock(2, 3, norm=False, activation=None, dropout=0.0)
    assert child_names(block) == ["conv"]
    default = ConvBlock(2, 3)
    assert not any(isinstance(m, nn.Dropout) for m in default.modules())
    assert not any(isinstance(m, nn.Dropout) for m in ConvBlock(2, 3, dropout=0).modules())
    with_drop = ConvBlock(2, 3, dropout=0.3)
    assert isinstance(with_drop.drop, nn.Dropout) and with_drop.drop.p == 0.3


@pytest.mark.parametrize(
    ("norm", "bias", "has_bias"),
    [(True, None, False), (False, None, True), (True, True, True), (False, False, False)],
)
def test_bias_default_depends_on_norm(norm: bool, bias: bool | None, has_bias: bool) -> None:
    block = ConvBlock(4, 6, kernel_size=3, norm=norm, bias=bias)
    assert (block.conv.bias is not None) == has_bias
    expected = 3 * 3 * 4 * 6 + (6 if has_bias else 0) + (2 * 6 if norm else 0)
    assert sum(p.numel() for p in block.parameters()) == expected


def test_activation_by_class_and_by_name() -> None:
    assert isinstance(ConvBlock(1, 2, activation=nn.GELU).act, nn.GELU)
    assert isinstance(ConvBlock(1, 2, activation="LeakY_ReLU").act, nn.LeakyReLU)


@pytest.mark.parametrize(
    "order", ["conv-act-norm", "conv-act-act-drop", "conv-bn-act-drop", "", "conv_act_norm_drop"]
)
def test_invalid_order(order: str) -> None:
    with pytest.raises(
        ValueError, match=r"order must name each of conv/norm/act/drop exactly once"
    ):
        ConvBlock(1, 2, order=order)
    with pytest.raises(ValueError, match=re.escape(repr(order))):
        ConvBlock(1, 2, order=order)


@pytest.mark.parametrize("padding", [-1, 1.5, True])
def test_invalid_padding(padding: object) -> None:
    with pytest.raises(
        ValueError, match=rf"padding must be a non-negative integer, got {padding!r}"
    ):
        ConvBlock(1, 2, padding=padding)  # type: ignore[arg-type]


@pytest.mark.parametrize("dropout", [-0.1, 1.0, 1.5])
def test_dropout_out_of_range(dropout: float) -> None:
    with pytest.raises(ValueError, match=rf"dropout must lie in \[0, 1\), got {dropout}"):
        ConvBlock(1, 2, dropout=dropout)


@pytest.mark.parametrize(
    "name", ["in_channels", "out_channels", "kernel_size", "stride", "dilation"]
)
@pytest.mark.parametrize("value", [0, -2])
def test_non_positive_integers(name: str, value: int) -> None:
    kwargs: dict[str, int] = {"in_channels": 1, "out_channels": 2, "kernel_size": 3}
    kwargs[name] = value
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer, got {value}"):
        ConvBlock(**kwargs)  # type: ignore[arg-type]


@PROPERTY_SETTINGS
@given(
    side=st.integers(1, 20),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 3),
    padding=st.integers(0, 3),
    dilation=st.integers(1, 3),
    channels=st.integers(1, 4),
)
def test_output_size_formula(
    side: int, kernel: int, stride: int, padding: int, dilation: int, channels: int
) -> None:
    span = dilation * (kernel - 1) + 1
    assume(span <= side + 2 * padding)
    block = ConvBlock(
        channels, 3, kernel, stride=stride, padding=padding, dilation=dilation, norm=False
    )
    expected = conv_output_side(side, kernel, stride, padding, dilation)
    expected_w = conv_output_side(side + 1, kernel, stride, padding, dilation)
    assert conv_output_size((side, side + 1), kernel, stride, padding, dilation) == (
        expected,
        expected_w,
    )
    assert block(torch.zeros(2, channels, side, side + 1)).shape == (2, 3, expected, expected_w)


@PROPERTY_SETTINGS
@given(
    side=st.integers(1, 12),
    kernel=st.integers(1, 7),
    padding=st.integers(0, 2),
    dilation=st.integers(1, 3),
)
def test_output_size_raises_exactly_when_kernel_does_not_fit(
    side: int, kernel: int, padding: int, dilation: int
) -> None:
    span = dilation * (kernel - 1) + 1
    if span <= side + 2 * padding:
        conv_output_size((side, side), kernel, 1, padding, dilation)
    else:
        with pytest.raises(ValueError, match=rf"larger than the {side}x{side} feature map"):
            conv_output_size((side, side), kernel, 1, padding, dilation)


def test_gradients_flow_to_all_parameters() -> None:
    torch.manual_seed(0)
    block = ConvBlock(2, 4, norm=True, activation="silu", dropout=0.1, bias=True)
    out = block(torch.randn(3, 2, 6, 6))
    (out * torch.randn_like(out)).sum().backward()  # a plain sum has zero gradient through BN
    for name, parameter in block.named_parameters():
        assert parameter.grad is not None, name
        assert bool(parameter.grad.abs().sum() > 0), name


def test_gradcheck_without_dropout() -> None:
    torch.manual_seed(0)
    block = ConvBlock(2, 3, norm=False, activation="tanh", padding=1).double()
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x,))
