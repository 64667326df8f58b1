"""DepthwiseSeparable: shapes, exact parameters, the linear law, grouped ConvBlock errors."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS
from torch import nn

from tinyconv.blocks import ConvBlock, DepthwiseSeparable


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_children_halves_and_where_dropout_goes() -> None:
    block = DepthwiseSeparable(6, 10, multiplier=2, dropout=0.1)
    assert [name for name, _ in block.named_children()] == ["depthwise", "pointwise"]
    assert block.depthwise.conv.groups == 6 and block.depthwise.conv.out_channels == 12
    assert block.pointwise.conv.kernel_size == (1, 1) and block.pointwise.conv.in_channels == 12
    assert not hasattr(block.depthwise, "drop") and isinstance(block.pointwise.drop, nn.Dropout)
    assert (block.in_channels, block.out_channels, block.multiplier) == (6, 10, 2)


@PROPERTY_SETTINGS
@given(
    in_channels=st.integers(1, 12),
    out_channels=st.integers(1, 12),
    multiplier=st.integers(1, 3),
    kernel=st.sampled_from((1, 3, 5)),
    padding=st.integers(0, 2),
    stride=st.integers(1, 2),
    side=st.integers(5, 12),
    norm=st.booleans(),
)
def test_shapes_and_parameters(
    in_channels: int,
    out_channels: int,
    multiplier: int,
    kernel: int,
    padding: int,
    stride: int,
    side: int,
    norm: bool,
) -> None:
    block = DepthwiseSeparable(
        in_channels,
        out_channels,
        kernel,
        stride=stride,
        padding=padding,
        multiplier=multiplier,
        norm=norm,
    )
    out_side = (side + 2 * padding - kernel) // stride + 1
    assert block(torch.randn(2, in_channels, side, side)).shape == (
        2,
        out_channels,
        out_side,
        out_side,
    )
    wide = in_channels * multiplier
    weights = kernel * kernel * wide + wide * out_channels
    extra = 2 * (wide + out_channels) if norm else wide + out_channels  # BN affine, or biases
    assert count(block) == weights + extra


@PROPERTY_SETTINGS
@given(
    in_channels=st.integers(1, 6),
    out_channels=st.integers(1, 6),
    multiplier=st.integers(1, 3),
    kernel=st.sampled_from((1, 3)),
    seed=st.integers(0, 2**16),
)
def test_without_norm_or_activation_it_is_one_full_convolution(
    in_channels: int, out_channels: int, multiplier: int, kernel: int, seed: int
) -> None:
    """Two linear maps compose to one: the full kernel is sum_j pointwise[o, c*m+j] * depthwise
    [c*m+j], written here with plain tensor indexing, not the block's layout."""
    torch.manual_seed(seed)
    block = DepthwiseSeparable(
        in_channels, out_channels, kernel, multiplier=multiplier, norm=False, activation=None
    ).double()
    depthwise = block.depthwise.conv.weight[:, 0]  # [in*m, k, k]
    pointwise = block.pointwise.conv.weight[:, :, 0, 0]  # [out, in*m]
    full = torch.zeros(out_channels, in_channels, kernel, kernel, dtype=torch.float64)
    for o in range(out_channels):
        for c in range(in_channels):
            for j in range(multiplier):
                full[o, c] += pointwise[o, c * multiplier + j] * depthwise[c * multiplier + j]
    bias = block.pointwise.conv.bias + pointwise @ block.depthwise.conv.bias
    x = torch.randn(2, in_channels, 7, 7, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.conv2d(x, full, bias), rtol=1e-10, atol=1e-10)


def test_gradients_reach_both_halves() -> None:
    block = DepthwiseSeparable(3, 4)
    block(torch.randn(2, 3, 8, 8)).square().sum().backward()
    for name, parameter in block.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_channel_counts_that_groups_do_not_divide_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"groups=4 must divide both in_channels=6 and "):
        ConvBlock(6, 8, groups=4)
    with pytest.raises(ValueError, match="multiplier"):
        DepthwiseSeparable(4, 8, multiplier=0)
    assert ConvBlock(6, 12, groups=3).conv.weight.shape == (12, 2, 3, 3)
