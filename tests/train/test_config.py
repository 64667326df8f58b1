import dataclasses
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyconv.train import TrainConfig

BAD_VALUES = [
    ("epochs", 0, "an int >= 1"),
    ("epochs", 2.0, "an int >= 1"),
    ("epochs", True, "an int >= 1"),
    ("batch_size", -3, "an int >= 1"),
    ("optimizer", "rmsprop", "one of 'sgd', 'adam', 'adamw'"),
    ("lr", 0.0, "(0.0, inf)"),
    ("lr", math.nan, "(0.0, inf)"),
    ("lr", "0.1", "(0.0, inf)"),
    ("momentum", 1.0, "[0.0, 1.0)"),
    ("momentum", -0.1, "[0.0, 1.0)"),
    ("nesterov", 1, "True or False"),
    ("weight_decay", -1e-4, "[0.0, inf)"),
    ("scheduler", "cosine", "one of 'none', 'step', 'onecycle'"),
    ("step_size", 0, "an int >= 1"),
    ("gamma", 0.0, "(0.0, 1.0]"),
    ("gamma", 1.5, "(0.0, 1.0]"),
    ("max_lr", -1.0, "(0.0, inf)"),
    ("pct_start", 1.0, "(0.0, 1.0)"),
    ("div_factor", 0.0, "(0.0, inf)"),
    ("final_div_factor", math.inf, "(0.0, inf)"),
    ("label_smoothing", 1.0, "[0.0, 1.0)"),
    ("grad_clip", 0.0, "(0.0, inf)"),
    ("seed", -1, "an int >= 0"),
    ("seed", 2**63, "an int in [0, 2**63)"),
    ("dropout_masks", "fast", "one of 'torch', 'hash'"),
    ("device", "gpu", "'auto' or a device string"),
    ("device", "meta", "'auto' or a device string"),
    ("device", 0, "'auto' or a device string"),
    ("compile", "yes", "True or False"),
    ("compile_mode", "fast", "one of 'default', 'reduce-overhead', 'max-autotune'"),
    ("channels_last", None, "True or False"),
    ("progress", "auto", "True, False or None"),
    ("sync_every", 0, "an int >= 1"),
    ("capture", "yes", "True or False"),
]


def test_defaults_match_the_documented_recipe():
    config = TrainConfig()
    assert (config.epochs, config.batch_size, config.optimizer, config.lr) == (15, 128, "sgd", 0.01)
    assert (config.momentum, config.scheduler, config.max_lr, config.progress) == (
        0.9,
        "none",
        None,
        None,
    )
    assert config.peak_lr == 0.01
    assert TrainConfig(max_lr=0.3).peak_lr == 0.3


@pytest.mark.parametrize(("field", "value", "allowed"), BAD_VALUES)
def test_bad_value_names_field_value_and_allowed_range(field, value, allowed):
    with pytest.raises(ValueError) as info:
        TrainConfig(**{field: value})
    message = str(info.value)
    assert f"TrainConfig.{field} must be" in message
    assert allowed in message
    assert f"got {value!r}" in message


def test_every_field_is_validated():
    validated = {field for field, _, _ in BAD_VALUES}
    assert validated == {f.name for f in dataclasses.fields(TrainConfig)}


@pytest.mark.parametrize(
    "overrides", [{"nesterov": True, "momentum": 0.0}, {"nesterov": True, "optimizer": "adam"}]
)
def test_nesterov_needs_sgd_with_momentum(overrides):
    with pytest.raises(ValueError, match=r"nesterov=True needs optimizer='sgd' and momentum > 0"):
        TrainConfig(**overrides)


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().lr = 1.0  # type: ignore[misc]


def test_from_dict_rejects_unknown_fields_and_fills_defaults():
    with pytest.raises(ValueError, match=r"unknown fields \['learning_rate'\]"):
        TrainConfig.from_dict({"learning_rate": 0.1})
    assert TrainConfig.from_dict({"epochs": 3}) == TrainConfig(epochs=3)


configs = st.builds(
    TrainConfig,
    epochs=st.integers(1, 100),
    batch_size=st.integers(1, 4096),
    optimizer=st.sampled_from(["sgd", "adam", "adamw"]),
    lr=st.floats(1e-6, 10.0),
    momentum=st.floats(0.0, 0.99),
    weight_decay=st.floats(0.0, 1.0),
    scheduler=st.sampled_from(["none", "step", "onecycle"]),
    max_lr=st.none() | st.floats(1e-6, 10.0),
    grad_clip=st.none() | st.floats(1e-3, 100.0),
    label_smoothing=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**63 - 1),
    device=st.sampled_from(["auto", "cpu", "cuda", "cuda:1", "mps"]),
    progress=st.none() | st.booleans(),
)


@given(configs)
def test_dict_and_json_roundtrip_is_exact(config):
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
