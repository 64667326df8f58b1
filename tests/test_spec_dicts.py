"""Specs as data: dict round trips, clear errors for bad dicts, one owner per block's arguments."""

import dataclasses
import inspect
import json

import pytest
import torch
from hypothesis import given
from strategies import PROPERTY_SETTINGS, NetCase, net_cases

from tinyconv import (
    BlockSpec,
    ConvSpec,
    GAPHeadSpec,
    SESpec,
    SpecError,
    build,
    build_from_architecture,
    count_parameters,
    spec_from_dict,
    specs_from_list,
    specs_to_list,
)


@PROPERTY_SETTINGS
@given(case=net_cases())
def test_specs_round_trip_through_json(case: NetCase) -> None:
    data = json.loads(json.dumps(specs_to_list(case.specs)))
    rebuilt = specs_from_list(data)
    assert rebuilt == case.specs
    kwargs = {"in_channels": case.in_channels, "input_size": case.input_size}
    original, copy = build(case.specs, **kwargs, seed=0), build(rebuilt, **kwargs, seed=0)
    assert count_parameters(copy) == count_parameters(original)
    x = torch.randn(2, case.in_channels, *case.input_size)
    assert copy.eval()(x).shape == original.eval()(x).shape == (2, case.num_classes)


@PROPERTY_SETTINGS
@given(case=net_cases())
def test_architecture_round_trip_rebuilds_the_same_model(case: NetCase) -> None:
    model = build(case.specs, in_channels=case.in_channels, input_size=case.input_size, seed=3)
    data = json.loads(json.dumps(model.architecture()))
    twin = build_from_architecture(data, seed=3)
    assert twin.specs == model.specs and twin.input_size == model.input_size
    for (name, a), (_, b) in zip(
        model.state_dict().items(), twin.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_every_kind_has_a_unique_tag_and_a_version_in_the_architecture() -> None:
    kinds = [cls.kind for cls in BlockSpec.registry.values()]
    assert len(kinds) == len(set(kinds))
    assert build([GAPHeadSpec()]).architecture()["version"] == 1


@pytest.mark.parametrize("cls", list(BlockSpec.registry.values()), ids=lambda c: c.__name__)
def test_spec_fields_are_exactly_the_blocks_keyword_arguments(cls: type[BlockSpec]) -> None:
    """One owner: a spec names its block's arguments, no more, no fewer (no drift)."""
    parameters = list(inspect.signature(cls.block).parameters)
    block_arguments = parameters[1:]  # after the input channels
    assert sorted(f.name for f in dataclasses.fields(cls)) == sorted(block_arguments)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "conv2d"}, r"unknown spec kind 'conv2d'; known kinds: conv, conv_head, gap"),
        ({"out_channels": 8}, r"unknown spec kind None"),
        ({"kind": "conv", "out_channels": 8, "widht": 3}, r"unknown field 'widht'.*out_channels"),
        ({"kind": "conv"}, r"missing field 'out_channels' for kind 'conv'"),
        ({"kind": "conv", "out_channels": "8"}, r"field 'out_channels' .* must be <class 'int'>"),
        ({"kind": "conv", "out_channels": True}, r"field 'out_channels'"),
        ({"kind": "se", "rd_ratio": "a quarter"}, r"field 'rd_ratio'"),
        ([1, 2], r"must be a dict"),
    ],
)
def test_bad_spec_dicts_raise_spec_errors_naming_the_field(data: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        spec_from_dict(data)  # type: ignore[arg-type]


def test_spec_list_errors_name_the_index_and_ints_become_floats() -> None:
    with pytest.raises(SpecError, match=r"spec 1: unknown spec kind 'nope'"):
        specs_from_list([{"kind": "se"}, {"kind": "nope"}])
    with pytest.raises(SpecError, match="list of dicts"):
        specs_from_list("conv")  # type: ignore[arg-type]
    spec = spec_from_dict({"kind": "conv", "out_channels": 4, "dropout": 0})
    assert spec == ConvSpec(out_channels=4) and isinstance(spec.dropout, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": 9, "in_channels": 1, "input_size": [28, 28], "specs": []}, "version 9"),
        ({"version": 1, "specs": []}, "lacks in_channels, input_size"),
        ("conv", "must be a dict"),
    ],
)
def test_bad_architectures(data: object, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        build_from_architecture(data)  # type: ignore[arg-type]


def test_a_new_block_kind_is_one_class() -> None:
    """A user's block registers itself by subclassing; build, dicts and summary just work."""
    from torch import nn

    class Scale(nn.Module):
        def __init__(self, channels: int, *, factor: float = 2.0) -> None:
            super().__init__()
            self.factor = factor

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.factor

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class ScaleSpec(BlockSpec):
        kind = "test_scale"
        prefix = "scale"
        block = Scale
        factor: float = 2.0

        def output(self, in_channels: int, size: tuple[int, int]) -> tuple[int, tuple[int, int]]:
            return in_channels, size

    try:
        specs = [ConvSpec(out_channels=4), ScaleSpec(factor=3.0), GAPHeadSpec(num_classes=2)]
        model = build(specs)
        assert [name for name, _ in model.named_children()] == ["conv1", "scale1", "head"]
        assert specs_from_list(specs_to_list(specs)) == tuple(specs)
    finally:
        del BlockSpec.registry["test_scale"]


def test_se_and_transition_specs_carry_every_block_option() -> None:
    se = SESpec(rd_channels=2, gate="hardsigmoid", bias=False).make(8, (4, 4))
    assert isinstance(se.gate, torch.nn.Hardsigmoid) and se.reduce.bias is None
    spec = spec_from_dict(
        {
            "kind": "transition",
            "out_channels": 4,
            "conv_order": "conv-norm-act-drop",
            "norm": True,
            "activation": "relu",
        }
    )
    names = [name for name, _ in spec.make(8, (4, 4)).conv.named_children()]
    assert names == ["conv", "norm", "act"]
