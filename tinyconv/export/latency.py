"""``measure_latency``: the median time of one batch-1 inference, with its thread count.

Each runtime is warmed up, then timed run by run with ``time.perf_counter_ns``; the
median of the runs is reported (robust to the odd slow run on a shared machine), with
the number of runs and the threads the runtime used, since a latency without its thread
count cannot be compared.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from tinyconv.eval_mode import eval_mode

__all__ = ["Latency", "measure_latency", "onnx_latency", "torch_latency"]


@dataclass(frozen=True)
class Latency:
    """Median batch-1 latency of one runtime.

    Args:
        runtime: What ran (``"pytorch eager fp32"``, ``"onnxruntime int8"``).
        threads: Intra-op threads the runtime used.
        median_us: Median of the timed runs, in microseconds.
        runs: Number of timed runs (after the warm-up).
    """

    runtime: str
    threads: int
    median_us: float
    runs: int

    def to_dict(self) -> dict[str, object]:
        """Return the fields as a dict."""
        return asdict(self)


def measure_latency(
    run: Callable[[], object], *, runtime: str, threads: int, runs: int = 200, warmup: int = 20
) -> Latency:
    """Time ``run()`` ``runs`` times after ``warmup`` untimed calls; report the median.

    Args:
        run: One inference.
        runtime: Label for the report.
        threads: Threads the runtime uses (recorded, not set).
        runs: Timed calls.
        warmup: Untimed calls first.

    Returns:
        The median latency.

    Raises:
        ValueError: If ``runs < 1``.

    Example:
        >>> measure_latency(lambda: None, runtime="noop", threads=1, runs=5).runs
        5
    """
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        run()
        times.append(time.perf_counter_ns() - start)
    return Latency(runtime, threads, statistics.median(times) / 1000, runs)


def torch_latency(model: nn.Module, image: torch.Tensor, *, runs: int = 200) -> Latency:
    """Batch-1 latency of ``model`` in PyTorch eager mode (eval, inference mode).

    Args:
        model: The model; its modes are restored afterwards.
        image: One input ``[1, C, H, W]``.
        runs: Timed runs.

    Returns:
        The latency, with ``torch.get_num_threads()`` threads.
    """
    with eval_mode(model), torch.inference_mode():
        return measure_latency(
            lambda: model(image),
            runtime="pytorch eager fp32",
            threads=torch.get_num_threads(),
            runs=runs,
        )


def onnx_latency(session: Any, image: torch.Tensor, *, label: str, runs: int = 200) -> Latency:
    """Batch-1 latency of an onnxruntime session.

    Args:
        session: From :func:`~tinyconv.export.session.onnx_session` or
            :func:`~tinyconv.export.session.tiny_model_session`.
        image: One input ``[1, C, H, W]``.
        label: ``"fp32"`` or ``"int8"``.
        runs: Timed runs.

    Returns:
        The latency, with the session's intra-op threads.
    """
    feed = {session.get_inputs()[0].name: image.detach().cpu().float().numpy()}
    threads = int(session.get_session_options().intra_op_num_threads)
    return measure_latency(
        lambda: session.run(None, feed), runtime=f"onnxruntime {label}", threads=threads, runs=runs
    )
