import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS
from torch import nn

from tinyconv.blocks import ConvBlock, Transition


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    ("order", "names"), [("pool-conv", ["pool", "conv"]), ("conv-pool", ["conv", "pool"])]
)
def test_both_orders(order: str, names: list[str]) -> None:
    transition = Transition(16, 8, order=order)
    assert [name for name, _ in transition.named_children()] == names
    assert isinstance(transition.pool, nn.MaxPool2d)
    assert isinstance(transition.conv, ConvBlock)
    assert transition.conv.conv.kernel_size == (1, 1)
    assert transition.order == order
    assert transition(torch.zeros(2, 16, 24, 24)).shape == (2, 8, 12, 12)


@PROPERTY_SETTINGS
@given(
    in_channels=st.integers(1, 24),
    out_channels=st.integers(1, 24),
    pool_size=st.integers(1, 3),
    height=st.integers(3, 13),
    width=st.integers(3, 13),
    order=st.sampled_from(("pool-conv", "conv-pool")),
    norm=st.booleans(),
)
def test_shapes_and_parameters(
    in_channels: int,
    out_channels: int,
    pool_size: int,
    height: int,
    width: int,
    order: str,
    norm: bool,
) -> None:
    transition = Transition(in_channels, out_channels, order=order, pool_size=pool_size, norm=norm)
    out = transition(torch.randn(2, in_channels, height, width))
    assert out.shape == (2, out_channels, height // pool_size, width // pool_size)
    assert count(transition) == in_channels * out_channels + (2 * out_channels if norm else 0)


def test_orders_agree_for_a_monotone_channel_map() -> None:
    # Max-pooling commutes with a 1x1 conv that maps each output channel from a single
    # input channel with a positive weight, so both orders must compute the same thing.
    first = Transition(4, 4, order="pool-conv")
    second = Transition(4, 4, order="conv-pool")
    with torch.no_grad():
        weight = torch.diag(torch.tensor([0.5, 1.0, 2.0, 3.0]))[:, :, None, None]
        first.conv.conv.weight.copy_(weight)
        second.conv.conv.weight.copy_(weight)
    x = torch.randn(2, 4, 6, 7)
    torch.testing.assert_close(first(x), second(x))


def test_optional_parts_inside_the_conv() -> None:
    transition = Transition(8, 4, norm=True, activation="relu", dropout=0.1)
    assert [name for name, _ in transition.conv.named_children()] == ["conv", "act", "norm", "drop"]
    assert transition.conv.conv.bias is None
    custom = Transition(8, 4, norm=True, activation="relu", conv_order="conv-norm-act-drop")
    assert [name for name, _ in custom.conv.named_children()] == ["conv", "norm", "act"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order": "conv-conv"}, r"order must be one of \('pool-conv', 'conv-pool'\), got 'conv"),
        ({"pool_size": 0}, "pool_size must be a positive integer, got 0"),
        ({"dropout": 1.0}, r"dropout must lie in \[0, 1\)"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Transition(8, 4, **kwargs)  # type: ignore[arg-type]


def test_invalid_channels() -> None:
    with pytest.raises(ValueError, match="out_channels must be a positive integer, got 0"):
        Transition(8, 0)


def test_gradients_flow_to_all_parameters() -> None:
    torch.manual_seed(0)
    transition = Transition(3, 5, norm=True, activation="silu")
    out = transition(torch.randn(2, 3, 6, 6))
    (out * torch.randn_like(out)).sum().backward()
    for name, parameter in transition.named_parameters():
        assert parameter.grad is not None, name
        assert bool(parameter.grad.abs().sum() > 0), name
