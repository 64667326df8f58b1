import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS
from torch import nn

from tinyconv.blocks import ConvHead, GAPHead

GAP_VARIANTS = [
    {"mode": "pool-conv", "use_conv": True},
    {"mode": "pool-conv", "use_conv": False},
    {"mode": "conv-pool", "use_conv": True},
]


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_gap_head_smoke() -> None:
    head = GAPHead(16, 10)
    assert head.in_channels == 16
    assert head.out_channels == head.num_classes == 10
    assert head.mode == "pool-conv"
    assert isinstance(head.classifier, nn.Conv2d)
    assert isinstance(GAPHead(16, 10, use_conv=False).classifier, nn.Linear)


@PROPERTY_SETTINGS
@given(
    in_channels=st.integers(1, 24),
    num_classes=st.integers(1, 12),
    bias=st.booleans(),
    batch=st.integers(1, 4),
    height=st.integers(1, 8),
    width=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_gap_variants_agree_in_shape_parameters_and_values(
    in_channels: int,
    num_classes: int,
    bias: bool,
    batch: int,
    height: int,
    width: int,
    seed: int,
) -> None:
    torch.manual_seed(seed)
    heads = [GAPHead(in_channels, num_classes, bias=bias, **variant) for variant in GAP_VARIANTS]
    expected = in_channels * num_classes + (num_classes if bias else 0)
    assert [count(head) for head in heads] == [expected] * 3
    reference = heads[0].classifier
    with torch.no_grad():
        for head in heads[1:]:
            head.classifier.weight.copy_(reference.weight.reshape(head.classifier.weight.shape))
            if bias:
                head.classifier.bias.copy_(reference.bias)
    x = torch.randn(batch, in_channels, height, width)
    outputs = [head(x) for head in heads]
    assert all(out.shape == (batch, num_classes) for out in outputs)
    # Averaging is linear, so pooling before or after the class map gives the same logits.
    for out in outputs[1:]:
        torch.testing.assert_close(out, outputs[0], rtol=1e-4, atol=1e-5)


def test_gap_head_conv_pool_needs_conv() -> None:
    with pytest.raises(ValueError, match=r"mode='conv-pool'.*use_conv=True"):
        GAPHead(16, 10, mode="conv-pool", use_conv=False)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((16, 10), {"mode": "max"}, r"mode must be one of \('pool-conv', 'conv-pool'\), got 'max'"),
        ((0, 10), {}, "in_channels must be a positive integer, got 0"),
        ((16, 0), {}, "num_classes must be a positive integer, got 0"),
    ],
)
def test_gap_head_invalid_arguments(
    args: tuple[int, int], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        GAPHead(*args, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("bias", [False, True])
def test_conv_head_shape_and_parameters(bias: bool) -> None:
    head = ConvHead(16, 10, kernel_size=7, bias=bias)
    assert head.kernel_size == 7
    assert head.out_channels == head.num_classes == 10
    assert head(torch.randn(3, 16, 7, 7)).shape == (3, 10)
    assert count(head) == 7 * 7 * 16 * 10 + (10 if bias else 0)


@pytest.mark.parametrize("size", [(6, 6), (7, 8), (8, 8)])
def test_conv_head_wrong_feature_map_names_sizes(size: tuple[int, int]) -> None:
    head = ConvHead(4, 10, kernel_size=7)
    with pytest.raises(
        ValueError, match=rf"expects a 7x7 feature map, got \({size[0]}, {size[1]}\)"
    ):
        head(torch.randn(2, 4, *size))


def test_conv_head_invalid_kernel() -> None:
    with pytest.raises(ValueError, match="kernel_size must be a positive integer, got 0"):
        ConvHead(4, 10, kernel_size=0)


@pytest.mark.parametrize(
    "head",
    [
        GAPHead(5, 3, bias=True),
        GAPHead(5, 3, use_conv=False, bias=True),
        GAPHead(5, 3, mode="conv-pool", bias=True),
        ConvHead(5, 3, kernel_size=4, bias=True),
    ],
    ids=["gap-pool-conv", "gap-linear", "gap-conv-pool", "conv-head"],
)
def test_gradients_flow_to_all_parameters(head: nn.Module) -> None:
    torch.manual_seed(0)
    head(torch.randn(2, 5, 4, 4)).pow(2).sum().backward()
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None, name
        assert bool(parameter.grad.abs().sum() > 0), name
