import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS
from torch import nn

from tinyconv import (
    ConvHeadSpec,
    ConvSpec,
    GAPHeadSpec,
    ReceptiveField,
    SESpec,
    TransitionSpec,
    build,
    receptive_fields,
)


def sizes(model: nn.Module) -> list[int | str]:
    return [str(field) if field.is_global else field.size for _, field in receptive_fields(model)]


def test_hand_computed_net() -> None:
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3),
        nn.BatchNorm2d(4),
        nn.Conv2d(4, 4, 3),
    )
    assert sizes(net) == [3, 3, 5, 6, 10, 10, 14]
    assert receptive_fields(net)[-1][1] == ReceptiveField(size=14, jump=2, is_global=False)


@pytest.mark.parametrize(
    ("layers", "size", "jump"),
    [
        ([nn.Conv2d(1, 1, 3, dilation=2)], 5, 1),
        ([nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3)], 7, 1),
        ([nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3)], 7, 2),
        ([nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3, dilation=2)], 11, 2),
        ([nn.Conv2d(1, 1, 5, padding=2), nn.Conv2d(1, 1, 1)], 5, 1),
        ([nn.MaxPool2d(3, stride=1), nn.Conv2d(1, 1, 3)], 5, 1),
        ([nn.AvgPool2d(2), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3)], 12, 4),
        ([nn.MaxPool2d(2, dilation=2), nn.Conv2d(1, 1, 3)], 7, 2),
    ],
)
def test_stride_and_dilation(layers: list[nn.Module], size: int, jump: int) -> None:
    field = receptive_fields(nn.Sequential(*layers))[-1][1]
    assert (field.size, field.jump) == (size, jump)


def test_tiny_net_with_gap_head_is_global() -> None:
    model = build(
        [
            ConvSpec(out_channels=8),
            ConvSpec(out_channels=8),
            SESpec(rd_channels=2),
            TransitionSpec(out_channels=4),
            ConvSpec(out_channels=8),
            ConvSpec(out_channels=8, dilation=2),
            GAPHeadSpec(),
        ]
    )
    names = [name for name, _ in receptive_fields(model)]
    assert names == ["conv1", "conv2", "se1", "trans1", "conv3", "conv4", "head"]
    assert sizes(model) == [3, 5, 5, 6, 10, 18, "global"]
    head = receptive_fields(model)[-1][1]
    assert head.is_global and str(head) == "global"


def test_conv_head_grows_the_field() -> None:
    model = build([ConvSpec(out_channels=4), ConvHeadSpec()], input_size=(9, 9))
    assert sizes(model) == [3, 9]


def test_dataclass_basics() -> None:
    assert ReceptiveField() == ReceptiveField(size=1, jump=1, is_global=False)
    assert ReceptiveField().grow(3, stride=2, dilation=2) == ReceptiveField(size=5, jump=2)
    assert str(ReceptiveField(7, 2)) == "7"
    assert ReceptiveField(7, 2).through(nn.AdaptiveAvgPool2d(1)).is_global
    assert ReceptiveField(7, 2).through(nn.ReLU()) == ReceptiveField(7, 2)


def test_linear_on_flattened_features_is_global() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 10))
    assert receptive_fields(net)[-1][1].is_global


@st.composite
def sliding_stacks(draw: st.DrawFn) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for _ in range(draw(st.integers(1, 4))):
        kernel = draw(st.integers(1, 4))
        stride = draw(st.integers(1, 2))
        if draw(st.booleans()):
            dilation = draw(st.integers(1, 2))
            layers.append(nn.Conv2d(1, 1, kernel, stride=stride, dilation=dilation, bias=False))
        else:
            layers.append(nn.AvgPool2d(kernel, stride=stride))
    return layers


@PROPERTY_SETTINGS
@given(layers=sliding_stacks())
def test_field_equals_the_input_region_that_reaches_one_output(layers: list[nn.Module]) -> None:
    """The field is exactly the extent of the input gradient of the first output pixel."""
    side = 1
    for layer in reversed(layers):  # smallest input whose output is at least 1x1
        if isinstance(layer, nn.Conv2d):
            kernel, stride, dilation = layer.kernel_size[0], layer.stride[0], layer.dilation[0]
        else:
            kernel, stride, dilation = int(layer.kernel_size), int(layer.stride), 1
        side = (side - 1) * stride + dilation * (kernel - 1) + 1
    net = nn.Sequential(*layers).double()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.fill_(1.0)  # positive weights: no cancellation hides a pixel
    x = torch.ones(1, 1, side + 3, side + 3, dtype=torch.float64, requires_grad=True)
    net(x)[0, 0, 0, 0].backward()
    assert x.grad is not None
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    extent = int(rows.max() - rows.min() + 1)
    assert receptive_fields(net)[-1][1].size == extent
