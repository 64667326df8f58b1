"""Build the optimizer and learning-rate scheduler a ``TrainConfig`` asks for.

``build_scheduler`` also says *when* to step the scheduler: StepLR once per epoch, OneCycleLR
once per batch (its ``total_steps`` is ``epochs * steps_per_epoch``). OneCycle here schedules
the learning rate only (``cycle_momentum=False``), so the configured momentum is the one used.
"""

from __future__ import annotations

from typing import Literal

from torch import nn
from torch.optim import SGD, Adam, AdamW, Optimizer
from torch.optim.lr_scheduler import LRScheduler, OneCycleLR, StepLR

from tinyconv.train.config import TrainConfig

StepInterval = Literal["epoch", "batch"]


def build_optimizer(model: nn.Module, config: TrainConfig) -> Optimizer:
    """Create the optimizer named by ``config.optimizer`` over the trainable parameters.

    Args:
        model: The model whose parameters with ``requires_grad`` are optimized.
        config: Supplies ``optimizer``, ``lr``, ``momentum``, ``nesterov``, ``weight_decay``.

    Returns:
        An ``SGD``, ``Adam`` or ``AdamW`` optimizer.

    Raises:
        ValueError: If the model has no trainable parameters.

    Example:
        >>> optimizer = build_optimizer(nn.Linear(2, 1), TrainConfig(optimizer="adamw", lr=0.1))
        >>> type(optimizer).__name__, optimizer.param_groups[0]["lr"]
        ('AdamW', 0.1)
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(
            f"{type(model).__name__} has no parameters with requires_grad=True; "
            "nothing to optimize (unfreeze some parameters)"
        )
    if config.optimizer == "sgd":
        return SGD(
            params,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov,
            weight_decay=config.weight_decay,
        )
    if config.optimizer == "adam":
        return Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


def build_scheduler(
    optimizer: Optimizer, config: TrainConfig, steps_per_epoch: int
) -> tuple[LRScheduler | None, StepInterval]:
    """Create the scheduler named by ``config.scheduler`` and say how often to step it.

    Args:
        optimizer: The optimizer to schedule.
        config: Supplies ``scheduler`` and its parameters.
        steps_per_epoch: Batches per epoch (OneCycle needs the total step count).

    Returns:
        ``(scheduler, interval)``: ``(None, "epoch")`` for ``"none"``, ``(StepLR, "epoch")``
        for ``"step"`` and ``(OneCycleLR, "batch")`` for ``"onecycle"``.

    Raises:
        ValueError: If ``steps_per_epoch`` is not a positive int.

    Example:
        >>> optimizer = build_optimizer(nn.Linear(2, 1), TrainConfig())
        >>> config = TrainConfig(scheduler="onecycle", epochs=2, lr=0.1)
        >>> scheduler, interval = build_scheduler(optimizer, config, steps_per_epoch=5)
        >>> interval, scheduler.total_steps, round(optimizer.param_groups[0]["lr"], 6)
        ('batch', 10, 0.004)
    """
    if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int):
        raise ValueError(f"steps_per_epoch must be a positive int, got {steps_per_epoch!r}")
    if steps_per_epoch < 1:
        raise ValueError(
            f"steps_per_epoch must be a positive int, got {steps_per_epoch}; "
            "the training loader yields no batches"
        )
    if config.scheduler == "none":
        return None, "epoch"
    if config.scheduler == "step":
        return StepLR(optimizer, step_size=config.step_size, gamma=config.gamma), "epoch"
    scheduler = OneCycleLR(
        optimizer,
        max_lr=config.peak_lr,
        total_steps=config.epochs * steps_per_epoch,
        pct_start=config.pct_start,
        div_factor=config.div_factor,
        final_div_factor=config.final_div_factor,
        cycle_momentum=False,
    )
    return scheduler, "batch"
