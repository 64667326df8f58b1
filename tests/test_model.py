import re

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS, NetCase, conv_output_side, net_cases
from torch import nn

from tinyconv import (
    ConvHeadSpec,
    ConvSpec,
    DepthwiseSeparableSpec,
    GAPHeadSpec,
    SESpec,
    SqueezeExcite,
    TinyNet,
    TransitionSpec,
    build,
)

SMALL_NET = (
    ConvSpec(out_channels=8),
    ConvSpec(out_channels=16),
    SESpec(rd_channels=4),
    TransitionSpec(out_channels=8),
    ConvSpec(out_channels=16),
    GAPHeadSpec(num_classes=10),
)


def analytic_parameter_count(case: NetCase) -> int:
    """Parameters implied by the spec fields alone (written without the library)."""
    channels, (height, width) = case.in_channels, case.input_size
    total = 0
    for spec in case.specs:
        if isinstance(spec, ConvSpec):
            k, out = spec.kernel_size, spec.out_channels
            bias = (not spec.norm) if spec.bias is None else spec.bias
            total += k * k * channels * out + (out if bias else 0) + (2 * out if spec.norm else 0)
            height = conv_output_side(height, k, spec.stride, spec.padding, spec.dilation)
            width = conv_output_side(width, k, spec.stride, spec.padding, spec.dilation)
            channels = out
        elif isinstance(spec, DepthwiseSeparableSpec):
            k, out, wide = spec.kernel_size, spec.out_channels, channels * spec.multiplier
            biases = 0 if spec.norm else wide + out  # a bias only without BatchNorm
            norms = 2 * (wide + out) if spec.norm else 0
            total += k * k * wide + wide * out + biases + norms
            height = conv_output_side(height, k, spec.stride, spec.padding, spec.dilation)
            width = conv_output_side(width, k, spec.stride, spec.padding, spec.dilation)
            channels = out
        elif isinstance(spec, SESpec):
            rd = spec.rd_channels if spec.rd_channels is not None else channels * spec.rd_ratio
            rd = int(rd)
            total += 2 * channels * rd + ((rd + channels) if spec.bias else 0)
        elif isinstance(spec, TransitionSpec):
            out = spec.out_channels
            total += channels * out + (2 * out if spec.norm else 0)
            height, width = height // spec.pool_size, width // spec.pool_size
            channels = out
        elif isinstance(spec, GAPHeadSpec):
            total += channels * spec.num_classes + (spec.num_classes if spec.bias else 0)
        else:
            assert isinstance(spec, ConvHeadSpec)
            assert height == width
            total += height * width * channels * spec.num_classes
            total += spec.num_classes if spec.bias else 0
    return total


@PROPERTY_SETTINGS
@given(case=net_cases(), batch=st.integers(1, 4))
def test_parameter_count_and_output_shape(case: NetCase, batch: int) -> None:
    model = build(case.specs, in_channels=case.in_channels, input_size=case.input_size)
    assert sum(p.numel() for p in model.parameters()) == analytic_parameter_count(case)
    model.eval()
    logits = model(torch.randn(batch, case.in_channels, *case.input_size))
    assert logits.shape == (batch, case.num_classes)
    assert model.num_classes == case.num_classes


@PROPERTY_SETTINGS
@given(case=net_cases(), seed=st.integers(0, 2**16))
def test_squeeze_excite_inside_a_model_preserves_shape_and_gates_in_unit_interval(
    case: NetCase, seed: int
) -> None:
    torch.manual_seed(seed)
    model = build(case.specs, in_channels=case.in_channels, input_size=case.input_size).eval()
    seen: list[tuple[torch.Size, torch.Size, torch.Tensor]] = []

    def record(module: nn.Module, args: tuple[torch.Tensor], out: torch.Tensor) -> None:
        assert isinstance(module, SqueezeExcite)
        seen.append((args[0].shape, out.shape, module.gates(args[0])))

    for module in model.modules():
        if isinstance(module, SqueezeExcite):
            module.register_forward_hook(record)
    with torch.no_grad():
        model(torch.rand(2, case.in_channels, *case.input_size))
    assert len(seen) == sum(isinstance(spec, SESpec) for spec in case.specs)
    for in_shape, out_shape, gates in seen:
        assert out_shape == in_shape
        assert gates.shape == in_shape[:2]
        assert bool(((gates > 0) & (gates < 1)).all())


def test_tiny_net_remembers_its_description_and_names_children() -> None:
    model = build(SMALL_NET, in_channels=1, input_size=(28, 28))
    assert isinstance(model, TinyNet)
    assert model.specs == SMALL_NET
    assert isinstance(model.specs, tuple)
    assert model.in_channels == 1
    assert model.input_size == (28, 28)
    assert model.num_classes == model.out_channels == 10
    assert [name for name, _ in model.named_children()] == [
        "conv1",
        "conv2",
        "se1",
        "trans1",
        "conv3",
        "head",
    ]
    assert model.training


def test_build_accepts_a_list_and_num_classes() -> None:
    model = build(list(SMALL_NET), num_classes=10, in_channels=3, input_size=[32, 30])
    assert model.input_size == (32, 30)
    assert model(torch.zeros(2, 3, 32, 30)).shape == (2, 10)


def test_conv_head_fills_in_the_kernel() -> None:
    model = build([ConvSpec(out_channels=4), ConvHeadSpec(num_classes=3)], input_size=(9, 9))
    assert model.head.kernel_size == 7
    assert model(torch.zeros(1, 1, 9, 9)).shape == (1, 3)


def build_error(specs: list[object], **kwargs: object) -> str:
    with pytest.raises(ValueError) as info:
        build(specs, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_empty_specs() -> None:
    with pytest.raises(ValueError, match="specs is empty; a model needs at least a head spec"):
        build([])


def test_unknown_spec_type_names_the_layer() -> None:
    with pytest.raises(ValueError, match=r"layer 1: unknown spec type dict; use ConvSpec"):
        build([ConvSpec(out_channels=4), {"out_channels": 4}, GAPHeadSpec()])  # type: ignore[list-item]


def test_non_positive_channels_names_the_layer() -> None:
    specs = [ConvSpec(out_channels=4), ConvSpec(out_channels=8), ConvSpec(out_channels=0)]
    with pytest.raises(
        ValueError, match=r"layer 2 \(ConvSpec\) at 8x24x24: out_channels must be a positive"
    ):
        build([*specs, GAPHeadSpec()])
    with pytest.raises(ValueError, match=r"layer 1 \(TransitionSpec\).*got -3"):
        build([ConvSpec(out_channels=4), TransitionSpec(out_channels=-3), GAPHeadSpec()])


def test_kernel_larger_than_feature_map_names_sizes() -> None:
    specs = [ConvSpec(out_channels=4, kernel_size=5), ConvSpec(out_channels=4, kernel_size=5)]
    with pytest.raises(
        ValueError, match=r"layer 1 \(ConvSpec\) at 4x4x4: kernel 5x5 .*the 4x4 feature map"
    ):
        build([*specs, GAPHeadSpec()], input_size=(8, 8))


def test_pool_that_does_not_fit() -> None:
    specs = [ConvSpec(out_channels=4, kernel_size=3), TransitionSpec(out_channels=2), GAPHeadSpec()]
    with pytest.raises(
        ValueError, match=r"layer 1 \(TransitionSpec\) at 4x1x1: 2x2 max-pool does not fit the 1x1"
    ):
        build(specs, input_size=(3, 3))


def test_head_not_last() -> None:
    with pytest.raises(ValueError, match=r"layer 0 \(GAPHeadSpec\) is a head but not the last"):
        build([GAPHeadSpec(), ConvSpec(out_channels=4), GAPHeadSpec()])


def test_missing_head() -> None:
    with pytest.raises(ValueError, match=r"layer 1 \(ConvSpec\) must be a head"):
        build([ConvSpec(out_channels=4), ConvSpec(out_channels=4)])


def test_head_num_classes_mismatch() -> None:
    with pytest.raises(
        ValueError, match=r"layer 1 \(GAPHeadSpec\) produces 10 logits but num_classes=7"
    ):
        build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=10)], num_classes=7)


def test_conv_head_kernel_mismatch() -> None:
    message = build_error([ConvSpec(out_channels=4), ConvHeadSpec(kernel_size=5)])
    assert "layer 1 (ConvHeadSpec) at 4x26x26" in message
    assert "kernel_size=5 does not cover the 26x26 feature map" in message
    assert "use kernel_size=26" in message


def test_conv_head_needs_a_square_map() -> None:
    message = build_error([ConvHeadSpec()], input_size=(28, 20))
    assert "square feature map, got 28x20" in message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"in_channels": 0}, "in_channels must be a positive integer, got 0"),
        ({"in_channels": 1.5}, "in_channels must be a positive integer, got 1.5"),
        ({"input_size": (28,)}, r"input_size must be \(height, width\), got \(28,\)"),
        ({"input_size": (28, 28, 1)}, r"input_size must be \(height, width\)"),
        ({"input_size": (28, 0)}, "input_size must be a positive integer, got 0"),
    ],
)
def test_bad_in_channels_or_input_size(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build([GAPHeadSpec()], **kwargs)  # type: ignore[arg-type]


def test_scalar_input_size_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match="input_size"):
        build([GAPHeadSpec()], input_size=28)  # type: ignore[arg-type]


def test_zero_stride_is_a_value_error_naming_the_layer() -> None:
    with pytest.raises(ValueError, match=r"layer 0 \(ConvSpec\).*stride"):
        build([ConvSpec(out_channels=4, stride=0), GAPHeadSpec()])


def input_error(model: TinyNet, shape: tuple[int, ...]) -> str:
    with pytest.raises(ValueError) as info:
        model(torch.zeros(shape))
    return str(info.value)


@pytest.fixture
def mnist_net() -> TinyNet:
    return build(SMALL_NET)


def test_wrong_channel_count(mnist_net: TinyNet) -> None:
    message = input_error(mnist_net, (2, 3, 28, 28))
    assert "expects input of shape (B, 1, 28, 28), got (2, 3, 28, 28)" in message
    assert "built with in_channels=1" in message


def test_wrong_spatial_size(mnist_net: TinyNet) -> None:
    message = input_error(mnist_net, (2, 1, 32, 32))
    assert "expects input of shape (B, 1, 28, 28), got (2, 1, 32, 32)" in message
    assert "built with input_size=(28, 28)" in message


def test_missing_batch_dimension(mnist_net: TinyNet) -> None:
    message = input_error(mnist_net, (1, 28, 28))
    assert "expects input of shape (B, 1, 28, 28), got (1, 28, 28)" in message
    assert "unsqueeze(0)" in message


def test_wrong_rank(mnist_net: TinyNet) -> None:
    message = input_error(mnist_net, (28, 28))
    assert re.search(r"expects input of shape \(B, 1, 28, 28\), got \(28, 28\)$", message)


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    specs = [
        ConvSpec(out_channels=4, activation="silu"),
        SESpec(rd_channels=2, activation="silu"),  # a ReLU bottleneck could be dead
        TransitionSpec(out_channels=4, norm=True),
        ConvSpec(out_channels=6, order="conv-norm-act-drop", dropout=0.1),
        GAPHeadSpec(num_classes=4, bias=True),
    ]
    model = build(specs, input_size=(10, 10))
    logits = model(torch.randn(4, 1, 10, 10))
    nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 3])).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert bool(parameter.grad.abs().sum() > 0), name
