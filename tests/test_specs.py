import dataclasses

import pytest
import torch
from hypothesis import given
from strategies import PROPERTY_SETTINGS, NetCase, net_cases

from tinyconv.blocks import ConvBlock, ConvHead, GAPHead, SqueezeExcite, Transition
from tinyconv.specs import (
    BlockSpec,
    ConvHeadSpec,
    ConvSpec,
    GAPHeadSpec,
    SESpec,
    TransitionSpec,
    conv_output_size,
)


def test_conv_output_size_examples() -> None:
    assert conv_output_size((28, 28), 3, 1, 0, 1) == (26, 26)
    assert conv_output_size((28, 27), 3, 2, 1, 1) == (14, 14)
    assert conv_output_size((9, 9), 3, 1, 0, 2) == (5, 5)
    assert conv_output_size((3, 3), 3, 1, 0, 1) == (1, 1)


def test_conv_output_size_error_names_sizes() -> None:
    with pytest.raises(
        ValueError, match=r"kernel 5x5 \(span 5 with dilation 1, padding 0\).*4x6 feature map"
    ):
        conv_output_size((4, 6), 5, 1, 0, 1)
    with pytest.raises(ValueError, match=r"kernel 3x3 \(span 5 with dilation 2"):
        conv_output_size((4, 4), 3, 1, 0, 2)


@pytest.mark.parametrize(
    "spec",
    [
        ConvSpec(out_channels=8),
        SESpec(),
        TransitionSpec(out_channels=8),
        GAPHeadSpec(),
        ConvHeadSpec(),
    ],
)
def test_specs_are_frozen_keyword_only_and_comparable(spec: object) -> None:
    field = dataclasses.fields(spec)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(spec, field, 3)
    assert spec == dataclasses.replace(spec)  # type: ignore[type-var]
    assert hash(spec) == hash(dataclasses.replace(spec))  # type: ignore[type-var]
    with pytest.raises(TypeError):
        type(spec)(8)  # positional fields are refused


def test_spec_defaults() -> None:
    conv = ConvSpec(out_channels=8)
    assert (conv.kernel_size, conv.padding, conv.stride, conv.dilation) == (3, 0, 1, 1)
    assert conv.norm and conv.activation == "relu" and conv.dropout == 0.0
    assert conv.order == "conv-act-norm-drop" and conv.bias is None
    registry = BlockSpec.registry
    assert [registry[kind] for kind in ("conv", "se", "transition", "gap_head", "conv_head")] == [
        ConvSpec,
        SESpec,
        TransitionSpec,
        GAPHeadSpec,
        ConvHeadSpec,
    ]
    assert {cls for cls in registry.values() if cls.is_head} == {GAPHeadSpec, ConvHeadSpec}


def test_conv_spec_output_and_make() -> None:
    spec = ConvSpec(out_channels=8, kernel_size=5, padding=2, stride=2, dropout=0.1)
    assert spec.output(3, (28, 28)) == (8, (14, 14))
    block = spec.make(3, (28, 28))
    assert isinstance(block, ConvBlock)
    assert block.conv.stride == (2, 2) and block.conv.padding == (2, 2)
    assert [name for name, _ in block.named_children()] == ["conv", "act", "norm", "drop"]


def test_conv_spec_errors() -> None:
    with pytest.raises(ValueError, match="out_channels must be a positive integer, got 0"):
        ConvSpec(out_channels=0).make(1, (28, 28))
    with pytest.raises(ValueError, match=r"kernel 7x7.*larger than the 5x5 feature map"):
        ConvSpec(out_channels=4, kernel_size=7).output(1, (5, 5))


def test_se_spec() -> None:
    assert SESpec(rd_channels=4).output(16, (7, 5)) == (16, (7, 5))
    module = SESpec(rd_ratio=0.5, activation="silu").make(8, (7, 7))
    assert isinstance(module, SqueezeExcite) and module.rd_channels == 4
    with pytest.raises(ValueError, match=r"gives 2\.5 bottleneck channels.*rd_channels"):
        SESpec(rd_ratio=0.25).make(10, (7, 7))


def test_transition_spec() -> None:
    spec = TransitionSpec(out_channels=8, pool_size=3, norm=True, order="conv-pool")
    assert spec.output(16, (10, 7)) == (8, (3, 2))
    module = spec.make(16, (10, 7))
    assert isinstance(module, Transition) and module.order == "conv-pool"
    with pytest.raises(ValueError, match=r"3x3 max-pool does not fit the 2x5 feature map"):
        spec.output(16, (2, 5))
    with pytest.raises(ValueError, match="pool_size must be a positive integer, got 0"):
        TransitionSpec(out_channels=8, pool_size=0).make(16, (8, 8))


def test_head_specs() -> None:
    gap = GAPHeadSpec(num_classes=7, use_conv=False, bias=True)
    assert gap.output(16, (3, 5)) == (7, (1, 1))
    assert isinstance(gap.make(16, (3, 5)), GAPHead)
    conv = ConvHeadSpec(num_classes=4)
    assert conv.output(16, (5, 5)) == (4, (1, 1))
    made = conv.make(16, (5, 5))
    assert isinstance(made, ConvHead) and made.kernel_size == 5
    assert ConvHeadSpec(kernel_size=5).make(16, (5, 5)).kernel_size == 5
    with pytest.raises(ValueError, match=r"kernel_size=3 does not cover the 5x5 feature map"):
        ConvHeadSpec(kernel_size=3).output(16, (5, 5))
    with pytest.raises(ValueError, match=r"square feature map, got 5x6"):
        ConvHeadSpec().output(16, (5, 6))
    with pytest.raises(ValueError, match="num_classes must be a positive integer, got 0"):
        GAPHeadSpec(num_classes=0).make(16, (5, 5))


@PROPERTY_SETTINGS
@given(case=net_cases())
def test_declared_output_matches_the_module_made(case: NetCase) -> None:
    """Each spec's ``output`` agrees with what its module really produces."""
    x = torch.randn(2, case.in_channels, *case.input_size)
    channels, size = case.in_channels, case.input_size
    for spec in case.specs:
        module = spec.make(channels, size).eval()
        channels, size = spec.output(channels, size)
        x = module(x)
        if spec.is_head:
            assert x.shape == (2, channels)
        else:
            assert x.shape == (2, channels, *size)
