"""A recipe that names a teacher: the field round-trips, train_recipe attaches the term."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

import tinyconv as tc
from tinyconv.compress import DistillationSpec
from tinyconv.data import ImageDataset
from tinyconv.train import TrainConfig

SPECS = (tc.ConvSpec(out_channels=4, stride=4), tc.GAPHeadSpec(num_classes=10))
RECIPE = tc.Recipe(name="tiny", specs=SPECS, train=TrainConfig(epochs=2, batch_size=16))


def data() -> ImageDataset:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (64, 1, 28, 28), generator=generator, dtype=torch.uint8)
    return ImageDataset(images, torch.arange(64) % 10, "toy", tuple("0123456789"), 0.1, 0.3)


def test_a_recipe_with_a_teacher_round_trips_through_json() -> None:
    recipe = dataclasses.replace(RECIPE, distill=DistillationSpec(teacher="t.pt", weight=0.5))
    assert tc.Recipe.from_dict(json.loads(json.dumps(recipe.to_dict()))) == recipe
    assert "distill" not in RECIPE.to_dict()  # recipes without a teacher keep their dicts


def test_train_recipe_adds_the_term_and_weight_zero_changes_nothing(tmp_path: Path) -> None:
    teacher = RECIPE.build_model(seed=5)
    tc.save(teacher, tmp_path / "teacher.model.pt")
    plain = tc.train_recipe(RECIPE, [0], data(), data(), device="cpu", progress=False)
    spec = DistillationSpec(teacher=str(tmp_path / "teacher.model.pt"), weight=0.0)
    zero = dataclasses.replace(RECIPE, distill=spec)
    taught = tc.train_recipe(zero, [0], data(), data(), device="cpu", progress=False)
    assert plain[0].history.to_list() != []
    rows = [{k: v for k, v in r.items() if k not in ("seconds", "images_per_sec")}
            for r in plain[0].history.to_list()]  # fmt: skip
    same = [{k: v for k, v in r.items() if k not in ("seconds", "images_per_sec")}
            for r in taught[0].history.to_list()]  # fmt: skip
    assert same == rows
    heavy = dataclasses.replace(RECIPE, distill=dataclasses.replace(spec, weight=5.0))
    moved = tc.train_recipe(heavy, [0], data(), data(), device="cpu", progress=False)
    assert moved[0].history.final.train_loss != plain[0].history.final.train_loss
    with pytest.raises(ValueError, match="one seed at a time"):
        tc.train_recipe(heavy, [0, 1], data(), data(), device="cpu", progress=False)
