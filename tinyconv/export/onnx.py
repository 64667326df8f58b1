"""``export_onnx`` and ``onnx_logits``: write a model as ONNX and run it with onnxruntime.

The export uses the maintained exporter, ``torch.onnx.export(..., dynamo=True)`` (it
needs ``onnx`` and ``onnxscript``), with a dynamic batch dimension, one input named
``image`` (normalised float images ``[B, C, H, W]``) and one output named ``logits``.
Files are written atomically, without the exporter's per-node debug metadata (the Python
stack trace of each operation, with this machine's file paths). These functions need the
``[export]`` extra (``pip install 'tinyconv[export]'``); importing this module does not.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tinyconv import layer_info
from tinyconv._extras import require
from tinyconv.atomic import atomic_write
from tinyconv.eval_mode import eval_mode
from tinyconv.export.errors import ExportError
from tinyconv.export.session import onnx_session  # its home; re-exported here as before

__all__ = ["INPUT_NAME", "OUTPUT_NAME", "export_onnx", "onnx_logits", "onnx_session"]

INPUT_NAME = "image"
"""Name of the ONNX model's input: normalised float images ``[B, C, H, W]``."""

OUTPUT_NAME = "logits"
"""Name of the ONNX model's output: class logits ``[B, num_classes]``."""


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    opset: int | None = None,
    input_shape: tuple[int, int, int] | None = None,
) -> Path:
    """Export ``model`` (in eval mode) to an ONNX file with a dynamic batch dimension.

    Args:
        model: A TinyNet; export the output of :func:`~tinyconv.export.fold_batchnorm` to
            ship the folded graph. Its modes are restored afterwards.
        path: Destination ``.onnx`` file; its folder must exist.
        opset: ONNX opset version; ``None`` takes the exporter's default.
        input_shape: The input's ``(C, H, W)``, for a captured graph (``torch.fx``, e.g.
            the int8 graph of :meth:`~tinyconv.export.qat.QuantizationAwareNet.converted`),
            which has neither the shape attributes nor a train mode: it is exported as
            it is. ``None``: read from the model, which is exported in eval mode.

    Returns:
        The destination path.

    Raises:
        MissingExtraError: If ``onnx`` or ``onnxscript`` is not installed.
        ModelGraphError: If the model does not say its input shape and none is given.
        ExportError: If the exporter fails.

    Example:
        >>> import tempfile
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=3)], seed=0)
        >>> path = export_onnx(net, Path(tempfile.mkdtemp()) / "net.onnx")
        >>> onnx_logits(onnx_session(path), torch.zeros(5, 1, 28, 28)).shape
        (5, 3)
    """
    require("onnx", "export")
    require("onnxscript", "export")
    channels, height, width = input_shape or layer_info.input_shape(model)
    as_it_is = input_shape is not None and isinstance(model, torch.fx.GraphModule)
    example = torch.zeros(2, channels, height, width)
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    try:
        mode = contextlib.nullcontext() if as_it_is else eval_mode(model)
        with mode, torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
            program = torch.onnx.export(
                model,
                (example,),
                dynamo=True,
                dynamic_shapes=({0: batch},),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                opset_version=opset,
                verbose=False,
                optimize=True,
            )
    except Exception as error:  # the exporter's own error types vary by version
        raise ExportError(
            f"torch.onnx.export failed for {type(model).__name__}: {type(error).__name__}: {error}"
        ) from error
    proto = program.model_proto  # type: ignore[union-attr]
    for node in proto.graph.node:  # the exporter's debug record: Python stack traces with
        del node.metadata_props[:]  # this machine's paths, half the file; nothing a runtime reads
    data = proto.SerializeToString()
    return atomic_write(path, lambda file: file.write(data))


def onnx_logits(session: Any, images: torch.Tensor, *, batch_size: int = 1000) -> np.ndarray:
    """Run normalised float images through an onnxruntime session, in batches.

    Args:
        session: From :func:`~tinyconv.export.session.onnx_session` or
            :func:`~tinyconv.export.session.tiny_model_session`.
        images: Float images ``[N, C, H, W]``, normalised as in training.
        batch_size: Images per run.

    Returns:
        Logits ``[N, num_classes]`` as a float32 array.
    """
    name = session.get_inputs()[0].name
    array = images.detach().cpu().float().numpy()
    parts = [
        session.run(None, {name: array[start : start + batch_size]})[0]
        for start in range(0, len(array), batch_size)
    ]
    return np.concatenate(parts).astype(np.float32)
