"""The compiled (and, on CUDA, captured) forward pass that ``fit`` and ``fit_stacked`` share.

``TrainConfig(compile=True)`` wraps the model in ``torch.compile`` with
``TrainConfig.compile_mode``. The modes ``"reduce-overhead"`` and ``"max-autotune"``
record the compiled forward and backward passes as CUDA graphs on a CUDA device, so a
step replays them with a single launch each instead of one launch per kernel from
Python: for a network of a few thousand parameters the launches, not the arithmetic,
are the cost of a step on a GPU. On the CPU the modes compile without graphs.

A captured graph reuses its output memory on the next replay, so the trainers mark
where each training step begins (:func:`begin_step`) and use a step's outputs (loss,
logits) before the next one starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

if TYPE_CHECKING:
    from tinyconv.train.config import TrainConfig

CompileMode = Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"]
COMPILE_MODES: tuple[str, ...] = (
    "default",
    "reduce-overhead",
    "max-autotune",
    "max-autotune-no-cudagraphs",
)
"""The modes of ``torch.compile`` that ``TrainConfig.compile_mode`` accepts."""

CUDA_GRAPH_MODES: frozenset[str] = frozenset({"reduce-overhead", "max-autotune"})
"""Modes in which ``torch.compile`` records CUDA graphs (on a CUDA device)."""


def compiled_forward(module: nn.Module, config: TrainConfig) -> nn.Module:
    """Return ``module`` compiled as ``config`` says, or ``module`` itself.

    Args:
        module: The model to train (already on its device).
        config: ``compile`` switches compiling on, ``compile_mode`` picks the mode.

    Returns:
        ``torch.compile(module, mode=config.compile_mode)`` if ``config.compile``, else
        ``module``. The compiled wrapper shares the module's parameters and buffers.

    Example:
        >>> from tinyconv.train import TrainConfig
        >>> model = nn.Linear(2, 2)
        >>> compiled_forward(model, TrainConfig()) is model
        True
    """
    if not config.compile:
        return module
    return torch.compile(module, mode=config.compile_mode)  # type: ignore[return-value]


def begin_step(config: TrainConfig) -> None:
    """Mark the start of a training step for CUDA-graph capture (a no-op otherwise).

    Call it before each training forward pass. With a CUDA-graph mode it tells
    ``torch.compile``'s graph trees that the previous step's outputs are no longer
    needed, so the next replay may overwrite them.

    Args:
        config: The run's settings.

    Example:
        >>> from tinyconv.train import TrainConfig
        >>> begin_step(TrainConfig())  # not compiled: nothing to mark
    """
    if config.compile and config.compile_mode in CUDA_GRAPH_MODES:
        torch.compiler.cudagraph_mark_step_begin()
