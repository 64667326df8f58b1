"""Open onnxruntime sessions: with a given thread count, or set up for a tiny model at batch 1.

:func:`onnx_session` opens a CPU session with ``threads`` intra-op threads (by default
PyTorch's count, so the two runtimes are compared on equal threads). A model of a few
thousand parameters at batch 1 runs for tens of microseconds, too short for a thread
pool to pay: :func:`tiny_model_session` opens it with the settings that suit that
(:data:`TINY_MODEL_SETTINGS`): one intra-op thread, no spinning (idle pool threads that
busy-wait steal a core from whatever else runs), full graph optimisation and sequential
execution. ``benchmarks/deploy_latency.py`` measures it against onnxruntime's defaults.
These functions need the ``[export]`` extra; importing this module does not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from tinyconv._extras import require
from tinyconv.export.errors import ExportError

__all__ = ["TINY_MODEL_SETTINGS", "onnx_session", "tiny_model_session"]

TINY_MODEL_SETTINGS: dict[str, object] = {
    "intra_op_num_threads": 1,
    "inter_op_num_threads": 1,
    "session.intra_op.allow_spinning": "0",
    "session.inter_op.allow_spinning": "0",
    "graph_optimization_level": "ORT_ENABLE_ALL",
    "execution_mode": "ORT_SEQUENTIAL",
}
"""What :func:`tiny_model_session` sets: ``SessionOptions`` attributes and session
config entries (the ``session.*`` keys)."""


def _options(ort: Any, threads: int) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return options


def _open(ort: Any, path: str | os.PathLike[str], options: Any) -> Any:
    if not Path(path).is_file():
        raise ExportError(
            f"no ONNX file at {str(path)!r}; write one with tinyconv.export.export_onnx or "
            "`tinyconv export MODEL --out DIR`"
        )
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_session(path: str | os.PathLike[str], *, threads: int | None = None) -> Any:
    """Open an onnxruntime CPU session on an ONNX file.

    Args:
        path: The ``.onnx`` file.
        threads: Intra-op threads (``None``: ``torch.get_num_threads()``, so PyTorch and
            onnxruntime are compared on the same number of threads); one inter-op thread.

    Returns:
        An ``onnxruntime.InferenceSession``.

    Raises:
        MissingExtraError: If ``onnxruntime`` is not installed.
        ExportError: If ``path`` is not a file.
    """
    ort = require("onnxruntime", "export")
    return _open(ort, path, _options(ort, threads or torch.get_num_threads()))


def tiny_model_session(path: str | os.PathLike[str], *, threads: int = 1) -> Any:
    """Open an onnxruntime CPU session set up for a tiny model at batch 1.

    The settings are :data:`TINY_MODEL_SETTINGS`: ``threads`` intra-op threads (one by
    default) and one inter-op thread, no spinning, ``ORT_ENABLE_ALL`` graph optimisation,
    ``ORT_SEQUENTIAL`` execution.

    Args:
        path: The ``.onnx`` file.
        threads: Intra-op threads; keep 1 unless a measurement says otherwise.

    Returns:
        An ``onnxruntime.InferenceSession``.

    Raises:
        MissingExtraError: If ``onnxruntime`` is not installed.
        ExportError: If ``path`` is not a file or ``threads`` is not a positive int.

    Example:
        >>> import tempfile
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> from tinyconv.export import export_onnx
        >>> from tinyconv.export.onnx import onnx_logits
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=3)], seed=0)
        >>> path = export_onnx(net, Path(tempfile.mkdtemp()) / "net.onnx")
        >>> session = tiny_model_session(path)
        >>> session.get_session_options().intra_op_num_threads
        1
        >>> onnx_logits(session, torch.zeros(1, 1, 28, 28)).shape
        (1, 3)
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ExportError(f"threads must be a positive int, got {threads!r}")
    ort = require("onnxruntime", "export")
    options = _options(ort, threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return _open(ort, path, options)
