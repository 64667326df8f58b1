import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.optim import SGD, Adam, AdamW
from torch.optim.lr_scheduler import OneCycleLR, StepLR

from tinyconv.train import TrainConfig
from tinyconv.train.optim import build_optimizer, build_scheduler

from .helpers import make_model


def current_lr(optimizer) -> float:
    return optimizer.param_groups[0]["lr"]


@pytest.mark.parametrize(("name", "kind"), [("sgd", SGD), ("adam", Adam), ("adamw", AdamW)])
def test_optimizer_kind_and_hyperparameters_follow_config(name, kind):
    config = TrainConfig(optimizer=name, lr=0.05, weight_decay=1e-4)
    optimizer = build_optimizer(make_model(), config)
    assert type(optimizer) is kind
    group = optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"]) == (0.05, 1e-4)
    if name == "sgd":
        assert (group["momentum"], group["nesterov"]) == (0.9, False)


def test_sgd_nesterov_is_passed_on():
    optimizer = build_optimizer(make_model(), TrainConfig(nesterov=True))
    assert optimizer.param_groups[0]["nesterov"] is True


def test_frozen_parameters_are_left_out_and_all_frozen_is_an_error():
    model = make_model()
    model[0].requires_grad_(False)
    optimizer = build_optimizer(model, TrainConfig())
    assert sum(len(g["params"]) for g in optimizer.param_groups) == 2  # the Linear only
    model.requires_grad_(False)
    with pytest.raises(ValueError, match="no parameters with requires_grad=True"):
        build_optimizer(model, TrainConfig())


def test_no_scheduler_steps_per_epoch():
    optimizer = build_optimizer(nn.Linear(2, 2), TrainConfig())
    assert build_scheduler(optimizer, TrainConfig(), steps_per_epoch=3) == (None, "epoch")


@pytest.mark.parametrize("steps", [0, -1, 2.5, True])
def test_bad_steps_per_epoch_is_refused(steps):
    optimizer = build_optimizer(nn.Linear(2, 2), TrainConfig())
    with pytest.raises(ValueError, match="steps_per_epoch must be a positive int"):
        build_scheduler(optimizer, TrainConfig(scheduler="onecycle"), steps_per_epoch=steps)


@settings(max_examples=25, deadline=None)
@given(
    step_size=st.integers(1, 5),
    gamma=st.floats(0.05, 1.0),
    epochs=st.integers(0, 12),
)
def test_step_lr_after_n_epochs_is_lr_times_gamma_to_the_k(step_size, gamma, epochs):
    config = TrainConfig(scheduler="step", lr=0.2, step_size=step_size, gamma=gamma)
    optimizer = build_optimizer(nn.Linear(2, 2), config)
    scheduler, interval = build_scheduler(optimizer, config, steps_per_epoch=4)
    assert isinstance(scheduler, StepLR)
    assert interval == "epoch"
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
    assert current_lr(optimizer) == pytest.approx(0.2 * gamma ** (epochs // step_size))


def test_onecycle_per_batch_warms_up_to_max_lr_and_anneals_to_the_floor():
    config = TrainConfig(
        scheduler="onecycle", epochs=4, lr=0.01, max_lr=0.4, pct_start=0.25, div_factor=20.0
    )
    optimizer = build_optimizer(nn.Linear(2, 2), config)
    scheduler, interval = build_scheduler(optimizer, config, steps_per_epoch=10)
    assert isinstance(scheduler, OneCycleLR)
    assert interval == "batch"
    assert scheduler.total_steps == 40
    rates = []
    for _ in range(40):
        rates.append(current_lr(optimizer))
        optimizer.step()
        scheduler.step()
    assert rates[0] == pytest.approx(0.4 / 20.0)
    assert max(rates) == pytest.approx(0.4)
    assert rates.index(max(rates)) == math.ceil(0.25 * 40) - 1  # end of warm-up
    assert rates[-1] == pytest.approx(0.4 / 20.0 / 1e4, rel=0.05)
    assert optimizer.param_groups[0]["momentum"] == 0.9  # only the lr is cycled


def test_onecycle_peak_defaults_to_lr():
    config = TrainConfig(scheduler="onecycle", lr=0.3)
    optimizer = build_optimizer(nn.Linear(2, 2), config)
    build_scheduler(optimizer, config, steps_per_epoch=2)
    assert optimizer.param_groups[0]["max_lr"] == 0.3
    assert current_lr(optimizer) == pytest.approx(0.3 / 25.0)
