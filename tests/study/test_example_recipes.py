"""The MNIST versions (plus ablation and variant) build, meet the budget, read like the table."""

from __future__ import annotations

from dataclasses import replace

import pytest
from examples_loader import load_example

from tinyconv import ConvHeadSpec, ConvSpec, GAPHeadSpec, SESpec, count_parameters, summary
from tinyconv.data import Rotation

PINNED_PARAMS = {
    "mnist_v1": 7_200,
    "mnist_v2": 6_300,
    "mnist_v3": 6_364,
    "mnist_v4": 6_364,
    "mnist_v5": 6_364,
    "mnist_v5_no_se": 6_216,
    "mnist_v5_onecycle": 6_364,
}


@pytest.mark.parametrize("name", sorted(PINNED_PARAMS))
def test_example_builds_under_budget_with_pinned_param_count(name: str) -> None:
    recipe = load_example(name).RECIPE
    model = recipe.build_model()
    assert recipe.name == name
    assert count_parameters(model) == PINNED_PARAMS[name] < 8_000
    assert summary(model).total_params == PINNED_PARAMS[name]


@pytest.mark.parametrize("name", [n for n in sorted(PINNED_PARAMS) if n != "mnist_v5_no_se"])
def test_every_version_uses_squeeze_excite(name: str) -> None:
    specs = load_example(name).RECIPE.specs
    assert sum(isinstance(spec, SESpec) for spec in specs) == 1


def test_versions_differ_as_the_table_says() -> None:
    v1, v2, v3, v4, v5 = (load_example(f"mnist_v{i}").RECIPE for i in range(1, 6))
    # V1: no BatchNorm, a plain conv head.
    assert isinstance(v1.specs[-1], ConvHeadSpec)
    assert not any(spec.norm for spec in v1.specs if isinstance(spec, ConvSpec))
    # V2: the last conv (transition + conv head) replaced by global average pooling.
    assert v2.specs[:-1] == v1.specs[:-2] and isinstance(v2.specs[-1], GAPHeadSpec)
    assert v2.train == v1.train
    # V3: BatchNorm in every conv block; the head (the last conv) has none.
    assert v3.specs == tuple(
        replace(s, norm=True) if isinstance(s, ConvSpec) else s for s in v2.specs
    )
    # V4: StepLR(step 7, gamma 0.1), nothing else.
    assert v4.specs == v3.specs
    assert (v4.train.scheduler, v4.train.step_size, v4.train.gamma) == ("step", 7, 0.1)
    assert v4.augment == ()
    # V5: rotation ±10° with the reference's fill (1 of 255) and StepLR(lr 0.1, 9, 0.18).
    assert v5.specs == v3.specs
    assert (v5.train.lr, v5.train.step_size, v5.train.gamma) == (0.1, 9, 0.18)
    assert v5.augment == (Rotation(degrees=10.0, fill=1 / 255),)
    for recipe in (v1, v2, v3, v4, v5):
        assert recipe.train.epochs == 15


def test_ablation_only_removes_squeeze_excite() -> None:
    v5 = load_example("mnist_v5").RECIPE
    ablation = load_example("mnist_v5_no_se").RECIPE
    assert ablation.specs == tuple(s for s in v5.specs if not isinstance(s, SESpec))
    assert replace(ablation, name=v5.name, description=v5.description, specs=v5.specs) == v5
