import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS
from torch import nn
from torchvision.ops import SqueezeExcitation

from tinyconv.blocks import SqueezeExcite, reduced_channels


def se_parameter_formula(channels: int, rd: int) -> int:
    return 2 * channels * rd + rd + channels


def test_smoke_default_ratio() -> None:
    se = SqueezeExcite(16)
    assert se.rd_channels == 4
    assert se.in_channels == se.out_channels == 16
    assert [name for name, _ in se.named_children()] == ["reduce", "act", "expand", "gate"]


@PROPERTY_SETTINGS
@given(
    channels=st.integers(1, 24),
    rd=st.integers(1, 24),
    batch=st.integers(1, 4),
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    seed=st.integers(0, 2**16),
)
def test_shape_gates_and_parameters(
    channels: int, rd: int, batch: int, height: int, width: int, seed: int
) -> None:
    torch.manual_seed(seed)
    se = SqueezeExcite(channels, rd_channels=rd)
    x = 3 * torch.rand(batch, channels, height, width) - 1.5
    out = se(x)
    gates = se.gates(x)
    assert out.shape == x.shape
    assert gates.shape == (batch, channels)
    assert bool(((gates > 0) & (gates < 1)).all())
    torch.testing.assert_close(out, x * gates[:, :, None, None])
    assert sum(p.numel() for p in se.parameters()) == se_parameter_formula(channels, rd)


@PROPERTY_SETTINGS
@given(
    channels=st.integers(1, 24),
    rd=st.integers(1, 24),
    height=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_equals_torchvision_squeeze_excitation(
    channels: int, rd: int, height: int, seed: int
) -> None:
    torch.manual_seed(seed)
    ours = SqueezeExcite(channels, rd_channels=rd)
    reference = SqueezeExcitation(channels, rd)
    with torch.no_grad():
        reference.fc1.weight.copy_(ours.reduce.weight)
        reference.fc1.bias.copy_(ours.reduce.bias)
        reference.fc2.weight.copy_(ours.expand.weight)
        reference.fc2.bias.copy_(ours.expand.bias)
    x = torch.randn(3, channels, height, height + 1)
    torch.testing.assert_close(ours(x), reference(x))
    assert count(ours) == count(reference)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("channels", "ratio", "exact"), [(10, 0.25, "2.5"), (8, 1 / 16, "0.5")])
def test_ratio_that_does_not_divide_raises_and_never_rounds(
    channels: int, ratio: float, exact: str
) -> None:
    with pytest.raises(ValueError, match=rf"gives {exact} bottleneck.*rd_channels=") as info:
        SqueezeExcite(channels, rd_ratio=ratio)
    assert f"{channels} channels" in str(info.value)
    with pytest.raises(ValueError, match="rd_channels"):
        reduced_channels(channels, ratio, None)


@pytest.mark.parametrize(("channels", "ratio", "rd"), [(16, 0.25, 4), (12, 1 / 3, 4), (8, 1.0, 8)])
def test_exact_ratio(channels: int, ratio: float, rd: int) -> None:
    se = SqueezeExcite(channels, rd_ratio=ratio)
    assert se.rd_channels == rd
    assert se.reduce.out_channels == rd
    assert count(se) == se_parameter_formula(channels, rd)


def test_rd_channels_overrides_ratio() -> None:
    se = SqueezeExcite(10, rd_ratio=0.25, rd_channels=3)  # ratio alone would raise
    assert se.rd_channels == 3
    assert se.reduce.weight.shape == (3, 10, 1, 1)
    assert count(se) == se_parameter_formula(10, 3)
    assert reduced_channels(16, None, 5) == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rd_ratio": None}, "give either rd_ratio or rd_channels"),
        ({"rd_channels": 0}, "rd_channels must be a positive integer, got 0"),
        ({"rd_ratio": 0.0}, "not a positive whole number"),
        ({"gate": None}, "gate must be an activation"),
        ({"activation": "nope"}, "unknown activation 'nope'"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SqueezeExcite(16, **kwargs)  # type: ignore[arg-type]


def test_invalid_channels() -> None:
    with pytest.raises(ValueError, match="channels must be a positive integer, got 0"):
        SqueezeExcite(0, rd_channels=2)


def test_no_bias_and_no_activation() -> None:
    se = SqueezeExcite(8, rd_channels=2, bias=False, activation=None)
    assert se.reduce.bias is None and se.expand.bias is None
    assert isinstance(se.act, nn.Identity)
    assert count(se) == 2 * 8 * 2


def test_gradients_flow_to_all_parameters() -> None:
    torch.manual_seed(0)
    se = SqueezeExcite(6, rd_channels=3, activation="silu").double()
    x = torch.randn(2, 6, 5, 5, dtype=torch.float64, requires_grad=True)
    se(x).pow(2).sum().backward()
    for name, parameter in se.named_parameters():
        assert parameter.grad is not None, name
        assert bool(parameter.grad.abs().sum() > 0), name
    assert torch.autograd.gradcheck(se, (x.detach().requires_grad_(),))
