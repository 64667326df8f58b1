"""Counts that see ``torch.nn.utils.prune`` masks: parameters, summary and budget.

A pruned parameter lives as ``weight_orig`` (stored) and ``weight_mask`` (a buffer); the
counts see it once, and say how many entries the mask holds at zero.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import PROPERTY_SETTINGS, NetCase, net_cases
from torch import nn
from torch.nn.utils import prune

from tinyconv import (
    BudgetExceededError,
    ConvSpec,
    GAPHeadSpec,
    build,
    check_budget,
    count_parameters,
    layer_parameters,
    summary,
)
from tinyconv.parameters import masked_zeros
from tinyconv.summary import PRUNING_NOTE

# conv1: 72 + 16, conv2: 1152 + 32, head: 160 -> 1432
SPECS = (ConvSpec(out_channels=8), ConvSpec(out_channels=16), GAPHeadSpec())


def zeros_in_masks(model: nn.Module) -> int:
    """Mask zeros found without the library, each mask buffer once."""
    masks = {
        id(b): b for name, b in model.named_buffers(remove_duplicate=True) if name.endswith("_mask")
    }
    return sum(int((mask == 0).sum()) for mask in masks.values())


@pytest.fixture
def pruned() -> nn.Module:
    model = build(SPECS, seed=0)
    prune.l1_unstructured(model.conv1.conv, "weight", amount=0.5)  # 36 of 72 weights
    return model


def test_half_pruned_layer_is_counted_once_and_its_zeros_reported(pruned: nn.Module) -> None:
    assert [name for name, _ in pruned.conv1.conv.named_parameters()] == ["weight_orig"]
    assert int((pruned.conv1.conv.weight == 0).sum()) == 36
    assert count_parameters(pruned) == 1432  # stored: weight_orig once, not weight as well
    assert count_parameters(pruned, exclude_pruned=True) == 1432 - 36
    assert list(masked_zeros(pruned).values()) == [36]
    assert dict(layer_parameters(pruned, exclude_pruned=True))["conv1.conv"] == 36
    assert dict(layer_parameters(pruned))["conv1.conv"] == 72


def test_summary_shows_the_pruned_weights(pruned: nn.Module) -> None:
    table = summary(pruned)
    assert table.total_params == 1432 and table.pruned_params == 36
    assert [row.pruned for row in table.rows] == [36, 0, 0]
    assert [row.params for row in table.rows] == [88, 1184, 160]
    text = str(table)
    assert "Pruned" in text.splitlines()[2]
    assert "Total params: 1,432 stored (36 held at zero by pruning masks, 1,396 unpruned)" in text
    assert PRUNING_NOTE in text and "a budget (check_budget, --max-params) checks" in text
    conv1_line = next(line for line in text.splitlines() if line.startswith("conv1"))
    assert conv1_line.split()[3:5] == ["88", "36"]


def test_summary_of_an_unpruned_model_has_no_pruned_column() -> None:
    text = str(summary(build(SPECS)))
    assert "Pruned" not in text.splitlines()[2] and PRUNING_NOTE not in text


def test_budget_checks_stored_parameters_and_says_so(pruned: nn.Module) -> None:
    assert check_budget(pruned, max_params=1432) == 1432
    with pytest.raises(BudgetExceededError) as info:
        check_budget(pruned, max_params=1400)
    message = str(info.value)
    assert "model has 1,432 stored parameters, 36 of them held at zero by pruning masks" in message
    assert "exclude_pruned=True" in message and "over the budget of 1,400 by 32" in message
    assert check_budget(pruned, max_params=1400, exclude_pruned=True) == 1396
    with pytest.raises(BudgetExceededError, match=r"1,396 unpruned parameters \(36 more held"):
        check_budget(pruned, max_params=1395, exclude_pruned=True)


def test_unpruned_model_budget_message_is_unchanged() -> None:
    with pytest.raises(BudgetExceededError, match=r"^model has 1,432 parameters, over"):
        check_budget(build(SPECS), max_params=1000)


def test_pruning_twice_and_a_shared_pruned_layer_count_once() -> None:
    conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)  # 144 weights
    prune.l1_unstructured(conv, "weight", amount=0.5)
    prune.random_unstructured(conv, "weight", amount=0.5)  # half of the 72 left
    net = nn.Sequential(conv, nn.ReLU(), conv)
    assert count_parameters(net) == 144
    assert count_parameters(net, exclude_pruned=True) == 144 - 108
    assert summary(net, input_size=(4, 6, 6)).pruned_params == 108


def test_remove_bakes_the_zeros_in_and_the_mask_is_gone(pruned: nn.Module) -> None:
    prune.remove(pruned.conv1.conv, "weight")
    assert count_parameters(pruned) == count_parameters(pruned, exclude_pruned=True) == 1432
    assert summary(pruned).pruned_params == 0


def test_trainable_only_and_exclude_pruned_combine(pruned: nn.Module) -> None:
    pruned.conv2.requires_grad_(False)
    assert count_parameters(pruned, trainable_only=True, exclude_pruned=True) == 88 - 36 + 160


@PROPERTY_SETTINGS
@given(case=net_cases(), data=st.data())
def test_pruned_counts_match_the_masks(case: NetCase, data: st.DataObject) -> None:
    model = build(case.specs, in_channels=case.in_channels, input_size=case.input_size)
    dense = summary(model)
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    for layer in layers:
        amount = data.draw(st.sampled_from((None, 0.0, 0.3, 0.5, 1.0)))
        if amount is not None:
            prune.l1_unstructured(layer, "weight", amount=amount)
    stored = sum(p.numel() for p in model.parameters())
    zeros = zeros_in_masks(model)
    assert count_parameters(model) == stored
    assert count_parameters(model, exclude_pruned=True) == stored - zeros
    table = summary(model)
    assert table.total_params == stored and table.pruned_params == zeros
    assert sum(row.pruned for row in table.rows) == zeros
    # Masks change what is zero, not what is stored or computed densely.
    assert table.int8_weight_bytes == dense.int8_weight_bytes
    assert table.layer_int8_weight_bytes == dense.layer_int8_weight_bytes
    assert table.total_macs == dense.total_macs
    assert table.peak_activation_bytes == dense.peak_activation_bytes
