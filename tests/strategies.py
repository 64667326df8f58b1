"""Hypothesis strategies for random, valid tinyconv spec lists, shared by the core tests.

A :class:`NetCase` is one random model description: specs plus the input it is built
for. The strategy tracks the feature-map size with its own copy of the convolution
arithmetic (not the library's), so every generated list fits by construction: each
kernel fits the map it meets, transitions appear only where the pool fits, and a
``ConvHeadSpec`` only follows a square map.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st

from tinyconv.specs import (
    BlockSpec,
    ConvHeadSpec,
    ConvSpec,
    DepthwiseSeparableSpec,
    GAPHeadSpec,
    SESpec,
    TransitionSpec,
)

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None)
"""Modest example count and no deadline: the suite must stay fast on 2 CPU cores."""

CONV_ORDERS = ("conv-act-norm-drop", "conv-norm-act-drop")
ACTIVATION_NAMES = (None, "relu", "silu", "tanh")
SE_RATIOS = (0.25, 0.5, 1.0)

Sides = tuple[int, int]


def conv_output_side(side: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of a convolution along one axis (the PyTorch formula)."""
    return (side + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True)
class NetCase:
    """A random but valid model description."""

    specs: tuple[BlockSpec, ...]
    in_channels: int
    input_size: Sides

    @property
    def num_classes(self) -> int:
        return self.specs[-1].num_classes


@st.composite
def conv_specs(draw: st.DrawFn, sides: Sides) -> ConvSpec:
    """A ConvSpec whose (dilated, padded) kernel fits a map of ``sides``."""
    kernel = draw(st.sampled_from((1, 3, 5)))
    dilation = draw(st.sampled_from((1, 1, 2)))
    if dilation * (kernel - 1) + 1 > min(sides) + 2 * (kernel // 2):
        dilation = 1  # with dilation 1 and padding kernel // 2 every kernel fits
    span = dilation * (kernel - 1) + 1
    min_padding = max(0, -(-(span - min(sides)) // 2))
    return ConvSpec(
        out_channels=draw(st.integers(1, 24)),
        kernel_size=kernel,
        padding=draw(st.integers(min_padding, max(min_padding, kernel // 2))),
        stride=draw(st.sampled_from((1, 1, 2))),
        dilation=dilation,
        norm=draw(st.booleans()),
        activation=draw(st.sampled_from(ACTIVATION_NAMES)),
        dropout=draw(st.sampled_from((0.0, 0.0, 0.1, 0.5))),
        order=draw(st.sampled_from(CONV_ORDERS)),
        bias=draw(st.sampled_from((None, True, False))),
    )


@st.composite
def separable_specs(draw: st.DrawFn, sides: Sides) -> DepthwiseSeparableSpec:
    """A DepthwiseSeparableSpec whose depthwise kernel fits a map of ``sides``."""
    conv = draw(conv_specs(sides))
    return DepthwiseSeparableSpec(
        out_channels=conv.out_channels,
        kernel_size=conv.kernel_size,
        padding=conv.padding,
        stride=conv.stride,
        dilation=conv.dilation,
        multiplier=draw(st.integers(1, 3)),
        norm=conv.norm,
        activation=conv.activation,
        dropout=conv.dropout,
        order=conv.order,
    )


@st.composite
def se_specs(draw: st.DrawFn, channels: int) -> SESpec:
    """An SESpec valid for ``channels``: an exact ratio, or rd_channels overriding any ratio."""
    exact = [ratio for ratio in SE_RATIOS if (channels * ratio).is_integer()]
    if exact and draw(st.booleans()):
        return SESpec(rd_ratio=draw(st.sampled_from(exact)))
    return SESpec(
        rd_ratio=draw(st.sampled_from((None, 0.3, 0.25))),
        rd_channels=draw(st.integers(1, 24)),
        activation=draw(st.sampled_from(ACTIVATION_NAMES)),
        gate=draw(st.sampled_from(("sigmoid", "hardsigmoid"))),
        bias=draw(st.booleans()),
    )


@st.composite
def transition_specs(draw: st.DrawFn, sides: Sides) -> TransitionSpec:
    """A TransitionSpec whose pool fits a map of ``sides`` (needs ``min(sides) >= 2``)."""
    pool_sizes = [p for p in (2, 3) if p <= min(sides)]
    return TransitionSpec(
        out_channels=draw(st.integers(1, 24)),
        order=draw(st.sampled_from(("pool-conv", "conv-pool"))),
        pool_size=draw(st.sampled_from(pool_sizes)),
        norm=draw(st.booleans()),
        activation=draw(st.sampled_from(ACTIVATION_NAMES)),
        dropout=draw(st.sampled_from((0.0, 0.2))),
        conv_order=draw(st.sampled_from(CONV_ORDERS)),
    )


@st.composite
def head_specs(draw: st.DrawFn, sides: Sides, conv_head: bool) -> GAPHeadSpec | ConvHeadSpec:
    """A GAP head (any mode) or a ConvHead covering the (square) map of ``sides``."""
    num_classes = draw(st.integers(1, 12))
    bias = draw(st.booleans())
    if conv_head:
        kernel = draw(st.sampled_from((None, sides[0])))
        return ConvHeadSpec(num_classes=num_classes, kernel_size=kernel, bias=bias)
    mode = draw(st.sampled_from(("pool-conv", "conv-pool")))
    use_conv = True if mode == "conv-pool" else draw(st.booleans())
    return GAPHeadSpec(num_classes=num_classes, mode=mode, use_conv=use_conv, bias=bias)


@st.composite
def net_cases(draw: st.DrawFn, max_blocks: int = 5) -> NetCase:
    """A random valid spec list (0..max_blocks body blocks plus a head) and its input."""
    conv_head = draw(st.booleans())
    height = draw(st.integers(4, 16))
    width = height if conv_head else draw(st.integers(4, 16))
    in_channels = draw(st.integers(1, 3))
    channels, sides = in_channels, (height, width)
    specs: list[BlockSpec] = []
    for _ in range(draw(st.integers(0, max_blocks))):
        kinds = ["conv", "conv", "separable", "se"] + (["trans"] if min(sides) >= 2 else [])
        kind = draw(st.sampled_from(kinds))
        if kind in ("conv", "separable"):
            spec = draw(conv_specs(sides) if kind == "conv" else separable_specs(sides))
            sides = (
                conv_output_side(
                    sides[0], spec.kernel_size, spec.stride, spec.padding, spec.dilation
                ),
                conv_output_side(
                    sides[1], spec.kernel_size, spec.stride, spec.padding, spec.dilation
                ),
            )
            channels = spec.out_channels
        elif kind == "se":
            spec = draw(se_specs(channels))
        else:
            spec = draw(transition_specs(sides))
            sides = (sides[0] // spec.pool_size, sides[1] // spec.pool_size)
            channels = spec.out_channels
        specs.append(spec)
    specs.append(draw(head_specs(sides, conv_head)))
    return NetCase(specs=tuple(specs), in_channels=in_channels, input_size=(height, width))
