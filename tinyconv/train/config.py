"""``TrainConfig``: every knob of a training run, validated once, stored in checkpoints.

The config is a frozen dataclass with sane defaults (15 epochs of SGD with momentum at
``lr=0.01``). ``__post_init__`` checks every field and raises a ``ValueError`` that names the
field, the bad value and what is allowed, so a typo fails before any tensor is touched.
``to_dict`` / ``from_dict`` turn it into plain JSON-able data for checkpoints and run logs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tinyconv._checks import check_int
from tinyconv.train.compiled import COMPILE_MODES, CompileMode
from tinyconv.train.device import parse_device
from tinyconv.train.hash_dropout import DROPOUT_MASKS, DropoutMasks

OptimizerName = Literal["sgd", "adam", "adamw"]
SchedulerName = Literal["none", "step", "onecycle"]

EXECUTION_FIELDS: frozenset[str] = frozenset(
    {"device", "compile", "compile_mode", "channels_last", "progress", "sync_every", "capture"}
)
"""``TrainConfig`` fields that say how a run executes, not what it computes (beyond float
noise): a resumed run or a study's next seed may change them."""

OPTIMIZERS: tuple[str, ...] = ("sgd", "adam", "adamw")
SCHEDULERS: tuple[str, ...] = ("none", "step", "onecycle")


def _fail(field: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"TrainConfig.{field} must be {allowed}, got {value!r}")


def _require_int(field: str, value: object, minimum: int) -> None:
    check_int(f"TrainConfig.{field}", value, minimum)


def _require_float(
    field: str, value: object, low: float, high: float, *, low_open: bool, high_open: bool
) -> None:
    left, right = ("(" if low_open else "["), (")" if high_open else "]")
    allowed = f"a finite number in {left}{low}, {high}{right}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(field, value, allowed)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        raise _fail(field, value, allowed)


def _require_bool(field: str, value: object, *, optional: bool = False) -> None:
    if not (isinstance(value, bool) or (optional and value is None)):
        raise _fail(field, value, "True, False or None" if optional else "True or False")


def _require_choice(field: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise _fail(field, value, f"one of {', '.join(repr(c) for c in choices)}")


def _require_device(value: object) -> None:
    allowed = "'auto' or a device string such as 'cpu', 'cuda', 'cuda:1', 'mps'"
    if not isinstance(value, str):
        raise _fail("device", value, allowed)
    if value == "auto":
        return
    try:
        parse_device(value)
    except ValueError as error:
        raise _fail("device", value, allowed) from error


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters and switches of one training run.

    Attributes:
        epochs: Number of passes over the training loader.
        batch_size: Batch size the training loader was built with (checked against it).
        optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"``.
        lr: Learning rate (the base rate for ``"step"``; the default peak for ``"onecycle"``).
        momentum: SGD momentum in ``[0, 1)``; ignored by Adam/AdamW.
        nesterov: Nesterov momentum (SGD with ``momentum > 0`` only).
        weight_decay: L2 penalty (decoupled for AdamW).
        scheduler: ``"none"``, ``"step"`` (StepLR, per epoch) or ``"onecycle"`` (per batch).
        step_size: StepLR: epochs between decays.
        gamma: StepLR: multiplicative decay in ``(0, 1]``.
        max_lr: OneCycle peak rate; ``None`` means ``lr``.
        pct_start: OneCycle: fraction of steps spent warming up, in ``(0, 1)``.
        div_factor: OneCycle: start rate is ``max_lr / div_factor``.
        final_div_factor: OneCycle: final rate is ``max_lr / div_factor / final_div_factor``.
        label_smoothing: Cross-entropy label smoothing in ``[0, 1)`` (training loss only).
        grad_clip: Max global gradient L2 norm, or ``None`` for no clipping.
        seed: Seed for Python ``random`` and torch (CPU and CUDA).
        dropout_masks: How dropout masks are drawn: ``"hash"`` (default,
            :mod:`~tinyconv.train.hash_dropout`: the same keep probability and
            independence from a counter-based hash, several times faster on the CPU) or
            ``"torch"`` (``F.dropout``'s ``bernoulli_``: what every run before recipe format
            2 drew; another random draw, so not bit-identical to ``"hash"``).
        device: ``"auto"`` (cuda, then mps, then cpu) or an explicit device string.
        compile: Wrap the forward pass in ``torch.compile``.
        compile_mode: The ``torch.compile`` mode when ``compile`` is on: ``"default"``,
            ``"reduce-overhead"`` or ``"max-autotune"`` (both record CUDA graphs on a CUDA
            device: the captured training step), or ``"max-autotune-no-cudagraphs"``.
        channels_last: Store weights and inputs in ``torch.channels_last`` memory format.
        progress: ``None`` (default): a tqdm bar when stderr is a terminal, else one line per
            epoch on stderr; ``"lines"``: always the lines (worker processes sharing a
            terminal); ``True``: always the bar; ``False``: nothing.
        sync_every: Look at the on-device finiteness flag every this many steps (and at the
            end of each epoch). ``None`` means every step on the CPU, where looking costs
            nothing, and every 50 steps on an accelerator, where it is a host sync.
        capture: Record the whole training step (forward, loss, backward, optimizer step)
            once as a CUDA graph and replay it for every full batch
            (:class:`~tinyconv.train.captured.CapturedStep`): no per-step kernel launches
            from Python, no compile. SGD only, one model (not stacked seeds), without
            ``compile`` or callbacks. The same
            batches, augmentations and masks as without it; the weights agree to float
            noise (the fused optimizer kernel rounds differently). On a device without CUDA
            graphs the same step runs eagerly, bit for bit the default path's.

    Example:
        >>> config = TrainConfig(epochs=3, optimizer="adam", lr=1e-3)
        >>> config.peak_lr
        0.001
        >>> TrainConfig.from_dict(config.to_dict()) == config
        True
        >>> TrainConfig(lr=-1.0)
        Traceback (most recent call last):
        ...
        ValueError: TrainConfig.lr must be a finite number in (0.0, inf), got -1.0
    """

    epochs: int = 15
    batch_size: int = 128
    optimizer: OptimizerName = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    scheduler: SchedulerName = "none"
    step_size: int = 7
    gamma: float = 0.1
    max_lr: float | None = None
    pct_start: float = 0.25
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    label_smoothing: float = 0.0
    grad_clip: float | None = None
    seed: int = 0
    dropout_masks: DropoutMasks = "hash"
    device: str = "auto"
    compile: bool = False
    compile_mode: CompileMode = "default"
    channels_last: bool = False
    progress: bool | Literal["lines"] | None = None
    sync_every: int | None = None
    capture: bool = False

    def __post_init__(self) -> None:
        inf = math.inf
        _require_int("epochs", self.epochs, 1)
        _require_int("batch_size", self.batch_size, 1)
        _require_choice("optimizer", self.optimizer, OPTIMIZERS)
        _require_float("lr", self.lr, 0.0, inf, low_open=True, high_open=True)
        _require_float("momentum", self.momentum, 0.0, 1.0, low_open=False, high_open=True)
        _require_bool("nesterov", self.nesterov)
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0.0):
            raise ValueError(
                "TrainConfig.nesterov=True needs optimizer='sgd' and momentum > 0, got "
                f"optimizer={self.optimizer!r}, momentum={self.momentum!r}"
            )
        _require_float("weight_decay", self.weight_decay, 0.0, inf, low_open=False, high_open=True)
        _require_choice("scheduler", self.scheduler, SCHEDULERS)
        _require_int("step_size", self.step_size, 1)
        _require_float("gamma", self.gamma, 0.0, 1.0, low_open=True, high_open=False)
        if self.max_lr is not None:
            _require_float("max_lr", self.max_lr, 0.0, inf, low_open=True, high_open=True)
        _require_float("pct_start", self.pct_start, 0.0, 1.0, low_open=True, high_open=True)
        _require_float("div_factor", self.div_factor, 0.0, inf, low_open=True, high_open=True)
        _require_float(
            "final_div_factor", self.final_div_factor, 0.0, inf, low_open=True, high_open=True
        )
        _require_float(
            "label_smoothing", self.label_smoothing, 0.0, 1.0, low_open=False, high_open=True
        )
        if self.grad_clip is not None:
            _require_float("grad_clip", self.grad_clip, 0.0, inf, low_open=True, high_open=True)
        _require_int("seed", self.seed, 0)
        if self.seed >= 2**63:
            raise _fail("seed", self.seed, "an int in [0, 2**63)")
        _require_choice("dropout_masks", self.dropout_masks, DROPOUT_MASKS)
        _require_device(self.device)
        _require_bool("compile", self.compile)
        _require_choice("compile_mode", self.compile_mode, COMPILE_MODES)
        _require_bool("channels_last", self.channels_last)
        if self.progress != "lines":
            _require_bool("progress", self.progress, optional=True)
        if self.sync_every is not None:
            _require_int("sync_every", self.sync_every, 1)
        _require_bool("capture", self.capture)
        if self.capture and (self.compile or self.optimizer != "sgd"):
            raise ValueError(
                "TrainConfig.capture=True records the training step as a CUDA graph itself, "
                f"for optimizer='sgd' without compile; got optimizer={self.optimizer!r}, "
                f"compile={self.compile!r}"
            )

    @property
    def peak_lr(self) -> float:
        """The OneCycle peak learning rate, ``max_lr`` if set, else ``lr``."""
        return self.lr if self.max_lr is None else self.max_lr

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict of JSON-able values."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build a config from ``to_dict`` output; missing fields take their defaults.

        Args:
            data: Field names mapped to values.

        Returns:
            The validated config.

        Raises:
            ValueError: If ``data`` has keys that are not fields, or a value is invalid.
        """
        names = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"TrainConfig.from_dict got unknown fields {unknown}; known fields: {sorted(names)}"
            )
        return cls(**data)
