"""What a Cortex-M pays for a model, estimated before training: flash, arena, instructions.

``tinyconv mcu`` measures a model on an emulated core (:mod:`tinyconv.mcu`); this module
estimates the same three figures from the model alone, in milliseconds and without a
toolchain, so a budget or a search can use them:

- **flash**: the model's bytes in the firmware image (its int8 .tflite), from the
  weight entries, the per-channel output channels and the operator count;
- **arena**: TFLite Micro's tensor arena, from the int8 activation peak that
  :func:`~tinyconv.device_costs.peak_activation_elements` computes by the runtime's
  planner rule, the operator count and the per-channel output channels;
- **instructions per inference**, per operator: a cost per multiply-accumulate, per
  element and per call for each operator kind (:func:`~tinyconv.deployed_graph.deployed_ops`).

The coefficients are fitted by least squares (:func:`fit_costs`) on every model under
``results/mcu/shipped`` run by ``tinyconv mcu`` (``python benchmarks/mcu_estimates.py``
writes ``device_estimate.json`` beside this module), and each estimate carries the error
that fit showed when each architecture was left out of it in turn. The runtime's own
flash (TFLite Micro, C library, harness) and static RAM do not depend on the model and
are not part of these figures; the report of a real run gives them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from tinyconv import layer_info
from tinyconv.deployed_graph import DeployedOp, deployed_ops
from tinyconv.device_costs import peak_activation_elements
from tinyconv.errors import ModelGraphError

__all__ = [
    "COSTS_FILE",
    "DeviceEstimate",
    "cost_class",
    "estimate_device",
    "fit_costs",
    "model_features",
    "op_features",
    "predict",
]

COSTS_FILE = Path(__file__).with_name("device_estimate.json")
"""The fitted coefficients and their validation errors, per core."""

# The model-level features of flash and arena bytes (each with a constant).
FLASH_FEATURES = ("weights", "channels", "operators")
ARENA_FEATURES = ("peak_int8", "operators", "channels")


def cost_class(op: DeployedOp) -> str:
    """The kernel an operator runs on CMSIS-NN, as far as its cost depends on it.

    A depthwise convolution takes a fast path when its output channels are a multiple of
    4, and runs about 2.6 times the instructions per output without it (measured on the
    first layer of the shipped models: 95-112 instructions per output with 4, 8 or 16
    channels, 259-277 with 3, 5, 6, 7 or 10); a kept BatchNorm (a 1x1 depthwise) and a depthwise
    convolution with one output per input channel are kernels of their own.

    Args:
        op: One operator of a deployed graph.

    Returns:
        The operator's kind, refined for depthwise convolutions.

    Example:
        >>> cost_class(DeployedOp("DEPTHWISE_CONV_2D", "c", channels=6, in_channels=1, taps=9))
        'DEPTHWISE_CONV_2D (channel multiplier, channels not a multiple of 4)'
    """
    if op.kind != "DEPTHWISE_CONV_2D":
        return op.kind
    if op.taps == 1:
        return "DEPTHWISE_CONV_2D (1x1)"
    if op.channels == op.in_channels:
        return "DEPTHWISE_CONV_2D (one output per channel)"
    fast = "a multiple of 4" if op.channels % 4 == 0 else "not a multiple of 4"
    return f"DEPTHWISE_CONV_2D (channel multiplier, channels {fast})"


def op_features(op: DeployedOp) -> tuple[float, ...]:
    """The sizes an operator's instruction count is fitted on, ending with 1 (per call).

    A convolution's cost grows with its multiply-accumulates, the elements its
    im2col buffer copies (``macs / channels``), its outputs (each requantised) and output
    positions, and the multiply-accumulates left over when its input channels are not
    a multiple of 4 (CMSIS-NN's inner loop takes 4 at a time).

    Args:
        op: One operator of a deployed graph.

    Returns:
        ``(macs, macs / channels, output_elements, output_pixels, leftover_macs, 1)``
        for a ``CONV_2D`` or ``FULLY_CONNECTED``, ``(macs, output_elements, 1)`` for a
        depthwise convolution, ``(input_elements, 1)`` for any other operator.

    Example:
        >>> op_features(DeployedOp("MEAN", "mean", input_elements=576, output_elements=16))
        (576.0, 1.0)
    """
    if op.kind in ("CONV_2D", "FULLY_CONNECTED"):
        leftover = op.output_elements * op.taps * (op.in_channels % 4)
        return (float(op.macs), op.macs / max(op.channels, 1), float(op.output_elements),
                float(op.output_pixels), float(leftover), 1.0)  # fmt: skip
    if op.kind == "DEPTHWISE_CONV_2D":
        return (float(op.macs), float(op.output_elements), 1.0)
    return (float(op.input_elements), 1.0)


def model_features(ops: Sequence[DeployedOp], peak_int8: int) -> dict[str, float]:
    """The model-level sizes the flash and arena estimates are fitted on.

    Args:
        ops: The model's deployed operators.
        peak_int8: Its int8 activation peak in bytes.

    Returns:
        ``weights`` (int8 weight entries), ``channels`` (per-channel output channels),
        ``operators`` and ``peak_int8``.
    """
    return {
        "weights": float(sum(op.weights for op in ops)),
        "channels": float(sum(op.channels for op in ops)),
        "operators": float(len(ops)),
        "peak_int8": float(peak_int8),
    }


def _solve(rows: Sequence[Sequence[float]], targets: Sequence[float]) -> list[float]:
    matrix, values = np.asarray(rows, dtype=float), np.asarray(targets, dtype=float)
    scale = np.abs(matrix).max(axis=0)
    scale[scale == 0] = 1.0
    solution, *_ = np.linalg.lstsq(matrix / scale, values, rcond=None)
    return [float(v) for v in solution / scale]


def fit_costs(
    runs: Sequence[tuple[Sequence[DeployedOp], int, dict[str, Any]]],
) -> dict[str, Any]:
    """Fit the coefficients of one core from measured runs, by least squares.

    Args:
        runs: Per measured model: its deployed operators, its int8 activation peak, and
            what ``tinyconv mcu`` measured (``flash_model``, ``arena`` and
            ``instructions``: a list with one count per operator, in the same order).

    Returns:
        ``{"operators": {class: [coefficients]}, "flash": [...], "arena": [...]}``: per
        :func:`cost_class` its coefficients in the order of :func:`op_features`; for flash
        and arena one per feature of :data:`FLASH_FEATURES` / :data:`ARENA_FEATURES`
        and a constant.

    Raises:
        ValueError: If a run's operator counts do not match its operators.

    Example:
        >>> ops = [DeployedOp("MEAN", "m", input_elements=n) for n in (10, 20, 40)]
        >>> runs = [([op], 100, {"flash_model": 0, "arena": 0,
        ...          "instructions": [3.0 * op.input_elements + 50]}) for op in ops]
        >>> [round(c, 6) for c in fit_costs(runs)["operators"]["MEAN"]]
        [3.0, 50.0]
    """
    by_kind: dict[str, tuple[list[tuple[float, ...]], list[float]]] = {}
    flash_rows, arena_rows, flash, arena = [], [], [], []
    for ops, peak, measured in runs:
        counts = measured["instructions"]
        if len(counts) != len(ops):
            raise ValueError(f"{len(counts)} instruction counts for {len(ops)} operators")
        for op, count in zip(ops, counts, strict=True):
            rows, targets = by_kind.setdefault(cost_class(op), ([], []))
            rows.append(op_features(op))
            targets.append(float(count))
        features = model_features(ops, peak)
        flash_rows.append([features[name] for name in FLASH_FEATURES] + [1.0])
        arena_rows.append([features[name] for name in ARENA_FEATURES] + [1.0])
        flash.append(float(measured["flash_model"]))
        arena.append(float(measured["arena"]))
    return {
        "operators": {kind: _solve(*by_kind[kind]) for kind in sorted(by_kind)},
        "flash": _solve(flash_rows, flash),
        "arena": _solve(arena_rows, arena),
    }


@dataclass(frozen=True)
class DeviceEstimate:
    """What a model is estimated to cost on one Cortex-M core with TFLite Micro + CMSIS-NN.

    Args:
        core: The core the coefficients were measured on (``cortex-m4``).
        flash_bytes: The model's bytes in flash (its int8 .tflite).
        arena_bytes: TFLite Micro's tensor arena.
        instructions: Instructions per inference.
        operators: ``(kind, instructions)`` per deployed operator.
        uncalibrated: Operator classes with no measured cost (counted as 0 instructions).
        errors: Largest relative error of each figure when its model was left out of
            the fit (``{"flash": 0.01, ...}``), over the measured models.
        measured_models: How many architectures the coefficients were fitted on.
    """

    core: str
    flash_bytes: int
    arena_bytes: int
    instructions: int
    operators: tuple[tuple[str, int], ...]
    uncalibrated: tuple[str, ...]
    errors: dict[str, float]
    measured_models: int

    def __str__(self) -> str:
        """The three figures and the largest error each showed on the measured models."""
        err = ", ".join(f"{name} {100 * value:.1f} %" for name, value in self.errors.items())
        lines = [
            f"Estimated on a {self.core} with TFLite Micro + CMSIS-NN (from the shapes; "
            "tinyconv mcu measures):",
            f"  model flash {self.flash_bytes:,} B, arena {self.arena_bytes:,} B, "
            f"{self.instructions:,} instructions per inference",
            f"  largest error on the {self.measured_models} measured models, each left out "
            f"of the fit: {err}",
        ]
        if self.uncalibrated:
            lines.append(f"  no measured cost for {', '.join(self.uncalibrated)} (counted as 0)")
        return "\n".join(lines)


@cache
def _costs() -> dict[str, Any]:
    return json.loads(COSTS_FILE.read_text())


def estimate_device(
    model: nn.Module,
    core: str = "cortex-m4",
    *,
    input_shape: tuple[int, ...] | None = None,
) -> DeviceEstimate:
    """Estimate a model's flash, arena and instructions per inference on a Cortex-M core.

    Args:
        model: A model ``torch.fx`` can trace (every model :func:`tinyconv.build` makes),
            trained or not: the figures depend on its shapes and on which BatchNorms
            fold (one before a max-pool folds only where all its scales are positive,
            which an untrained model's are; a kept one adds a 1x1 depthwise operator).
        core: A core with fitted coefficients (see ``device_estimate.json``).
        input_shape: One input image ``(C, H, W)``; default: the model's own.

    Returns:
        The estimate, with the error its fit showed.

    Raises:
        ModelGraphError: If the model cannot be traced or no coefficients exist for the
            core.

    Example:
        >>> from tinyconv.recipes import get_recipe
        >>> estimate = estimate_device(get_recipe("mnist_v5").build_model())
        >>> 15_000 < estimate.flash_bytes < 25_000, 12_000 < estimate.arena_bytes < 20_000
        (True, True)
    """
    costs = _costs()
    if core not in costs["cores"]:
        raise ModelGraphError(
            f"no device estimate for {core}: coefficients are fitted for "
            f"{', '.join(sorted(costs['cores']))} only; tinyconv mcu --cpu {core} measures "
            "a model on it"
        )
    fitted = costs["cores"][core]
    shape = layer_info.input_shape(model, input_shape)
    ops = deployed_ops(model, shape)
    predicted = predict(fitted, ops, peak_activation_elements(model, shape))
    return DeviceEstimate(
        core=core,
        **predicted,
        errors=dict(fitted["errors"]),
        measured_models=int(fitted["models"]),
    )


def predict(fitted: Mapping[str, Any], ops: Sequence[DeployedOp], peak_int8: int) -> dict[str, Any]:
    """Apply one core's fitted coefficients to a model's operators and activation peak.

    Args:
        fitted: One core's entry of ``device_estimate.json`` (or of :func:`fit_costs`).
        ops: The model's deployed operators.
        peak_int8: Its int8 activation peak in bytes.

    Returns:
        ``flash_bytes``, ``arena_bytes``, ``instructions``, ``operators`` (``(kind,
        instructions)`` each) and ``uncalibrated`` (classes with no fitted cost, counted
        as 0), as :class:`DeviceEstimate` holds them.
    """
    features = model_features(ops, peak_int8)
    per_op, missing = [], []
    for op in ops:
        coefficients = fitted["operators"].get(cost_class(op))
        if coefficients is None:
            missing.append(cost_class(op))
            per_op.append((op.kind, 0))
            continue
        value = sum(c * f for c, f in zip(coefficients, op_features(op), strict=True))
        per_op.append((op.kind, max(0, round(value))))

    def linear(name: str, names: tuple[str, ...]) -> int:
        values = [features[n] for n in names] + [1.0]
        return max(0, math.ceil(sum(c * f for c, f in zip(fitted[name], values, strict=True))))

    return {
        "flash_bytes": linear("flash", FLASH_FEATURES),
        "arena_bytes": linear("arena", ARENA_FEATURES),
        "instructions": sum(value for _, value in per_op),
        "operators": tuple(per_op),
        "uncalibrated": tuple(dict.fromkeys(missing)),
    }
