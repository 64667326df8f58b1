from collections import OrderedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS, NetCase, net_cases
from torch import nn

from tinyconv import (
    BudgetExceededError,
    ConvSpec,
    GAPHeadSpec,
    build,
    check_budget,
    count_parameters,
    layer_parameters,
)


def unique_numel(model: nn.Module, trainable_only: bool = False) -> int:
    """Sum of numel over the parameter set, each tensor once, found without the library."""
    unique = {id(p): p for _, p in model.named_parameters(remove_duplicate=False)}
    return sum(p.numel() for p in unique.values() if p.requires_grad or not trainable_only)


def build_case(case: NetCase) -> nn.Module:
    return build(case.specs, in_channels=case.in_channels, input_size=case.input_size)


@PROPERTY_SETTINGS
@given(case=net_cases(), data=st.data())
def test_count_equals_unique_numel_also_when_shared_and_frozen(
    case: NetCase, data: st.DataObject
) -> None:
    model = build_case(case)
    total = unique_numel(model)
    assert count_parameters(model) == total
    # The same model twice, and one of its layers shared inside a container, count once.
    first = next(model.children())
    assert count_parameters(nn.Sequential(model, model)) == total
    doubled = nn.Sequential(OrderedDict(a=model, b=first, c=nn.Sequential(first)))
    assert count_parameters(doubled) == total
    # Freeze a random subset of the parameters.
    parameters = list(model.parameters())
    frozen = data.draw(st.lists(st.booleans(), min_size=len(parameters), max_size=len(parameters)))
    for parameter, freeze in zip(parameters, frozen, strict=True):
        parameter.requires_grad_(not freeze)
    trainable = sum(p.numel() for p, freeze in zip(parameters, frozen, strict=True) if not freeze)
    assert count_parameters(model, trainable_only=True) == trainable
    assert count_parameters(doubled, trainable_only=True) == trainable
    assert count_parameters(model) == total
    # layer_parameters partitions the same total.
    assert sum(count for _, count in layer_parameters(doubled)) == total


def test_shared_layer_counts_once() -> None:
    shared = nn.Linear(4, 4)  # 16 + 4
    model = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(4, 2))  # + 8 + 2
    assert count_parameters(model) == 30
    assert sum(p.numel() for p in model.parameters()) == 30
    tied = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    tied[1].weight = tied[0].weight
    assert count_parameters(tied) == 16


def test_batch_norm_buffers_do_not_count() -> None:
    norm = nn.BatchNorm2d(8)
    assert count_parameters(norm) == 16
    assert count_parameters(nn.BatchNorm2d(8, affine=False)) == 0


def test_frozen_parameters() -> None:
    model = nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.BatchNorm2d(8))  # 72 + 16
    model[0].weight.requires_grad_(False)
    assert count_parameters(model) == 88
    assert count_parameters(model, trainable_only=True) == 16


def test_layer_parameters_largest_first_with_names() -> None:
    model = build([ConvSpec(out_channels=8), ConvSpec(out_channels=16), GAPHeadSpec()])
    rows = layer_parameters(model)
    assert rows == [
        ("conv2.conv", 3 * 3 * 8 * 16),
        ("head.classifier", 16 * 10),
        ("conv1.conv", 72),
        ("conv2.norm", 32),
        ("conv1.norm", 16),
    ]
    shared = nn.Linear(3, 3)
    assert layer_parameters(nn.Sequential(shared, shared)) == [("0", 12)]
    assert layer_parameters(nn.Linear(2, 2)) == [("Linear", 6)]


@pytest.fixture
def model() -> nn.Module:
    # conv1: 72 + 16, conv2: 1152 + 32, head: 160 -> 1432
    return build([ConvSpec(out_channels=8), ConvSpec(out_channels=16), GAPHeadSpec()])


def test_check_budget_under_and_at_equality(model: nn.Module) -> None:
    assert check_budget(model, max_params=10_000) == 1432
    assert check_budget(model, max_params=1432) == 1432


def test_check_budget_over_budget(model: nn.Module) -> None:
    with pytest.raises(BudgetExceededError) as info:
        check_budget(model, max_params=1431)
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.total, error.budget) == (1432, 1431)
    message = str(error)
    assert "model has 1,432 parameters" in message
    assert "budget of 1,431" in message
    assert "by 1;" in message
    assert "largest layers: conv2.conv=1,152" in message
    with pytest.raises(ValueError, match=r"over the budget of 1,000 by 432"):
        check_budget(model, max_params=1000)


def test_check_budget_top_and_trainable_only(model: nn.Module) -> None:
    with pytest.raises(BudgetExceededError) as info:
        check_budget(model, max_params=100, top=1)
    assert "head.classifier" not in str(info.value)
    model.conv2.requires_grad_(False)
    assert check_budget(model, max_params=300, trainable_only=True) == 72 + 16 + 160


def test_check_budget_negative_budget(model: nn.Module) -> None:
    with pytest.raises(ValueError, match="max_params must be >= 0, got -1"):
        check_budget(model, max_params=-1)
