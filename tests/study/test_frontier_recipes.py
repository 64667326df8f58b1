"""The frontier candidates: declared counts, budgets, and the write-up's three counts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tinyconv import ConvHeadSpec, ConvSpec, TransitionSpec, build, count_parameters
from tinyconv.recipes import RECIPES
from tinyconv.recipes.frontier import MNIST_4K_ONECYCLE, WRITEUP_SPECS
from tinyconv.recipes.frontier import RECIPES as FRONTIER
from tinyconv.specs import spec_from_dict

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "params", "budget"),
    [
        ("mnist_v5_writeup", 5_893, 8_000),
        ("mnist_wide_onecycle", 7_811, 8_000),
        ("mnist_wide_smooth", 7_811, 8_000),
        ("mnist_4k_onecycle", 3_740, 4_000),
    ],
)
def test_candidate_has_its_declared_count_under_its_budget(
    name: str, params: int, budget: int
) -> None:
    recipe = RECIPES[name]
    assert count_parameters(recipe.build_model(seed=0)) == params
    assert params <= budget and (recipe.max_params or 8_000) <= budget


def test_writeup_widths_give_the_writeups_three_counts() -> None:
    # V2: the same blocks without BatchNorm; V1: V2 with a 1x1 transition to 10 and a conv head.
    v2 = tuple(
        replace(spec, norm=False) if isinstance(spec, (ConvSpec, TransitionSpec)) else spec
        for spec in WRITEUP_SPECS
    )
    v1 = (*v2[:-1], TransitionSpec(out_channels=10), ConvHeadSpec(num_classes=10))
    counts = [count_parameters(build(specs)) for specs in (v1, v2, WRITEUP_SPECS)]
    assert counts == [6_633, 5_733, 5_893]


def test_4k_candidate_keeps_the_search_winners_blocks() -> None:
    winner = json.loads((ROOT / "results/search/mnist4k_best.json").read_text())
    assert MNIST_4K_ONECYCLE.specs == tuple(spec_from_dict(spec) for spec in winner["specs"])


def test_every_candidate_is_registered_and_draws_hash_masks() -> None:
    for recipe in FRONTIER:
        assert RECIPES[recipe.name] is recipe
        assert recipe.train.dropout_masks == "hash"
