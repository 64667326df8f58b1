"""What a .tflite file holds: its operators, which of them compute in float, its I/O types.

:func:`tflite_ops` lists the operators of the main subgraph with the types of their
tensors, so a report can say what stayed float in an int8 file; :func:`io_quantization`
reads the input's and output's type, shape, scale and zero point; :func:`quantize_input`
turns normalised float images into the int8 values such an input takes;
:func:`strip_tensor_names` drops the names no runtime reads, a quarter to over a third
of a small model's bytes. Reading a file needs the ``[tflite]`` extra (its flatbuffer schema);
:func:`quantize_input` does not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tinyconv._extras import require

__all__ = [
    "TensorQuantization",
    "TfliteOp",
    "io_quantization",
    "quantize_input",
    "require_tflite_extra",
    "strip_tensor_names",
    "tflite_ops",
]

_TFLITE_MODULES = ("litert_torch", "ai_edge_litert", "tflite_micro", "torchao")


def require_tflite_extra() -> None:
    """Import the ``[tflite]`` extra's modules now, or say which extra installs them.

    The runtimes print start-up notes from C++ as they load; they are kept off the
    terminal. A command calls this before any work.

    Raises:
        MissingExtraError: If a module of the extra is not installed.
    """
    from tinyconv.export._native_output import native_output

    with native_output():
        for module in _TFLITE_MODULES:
            require(module, "tflite")


_FLOAT_TYPES = ("FLOAT32", "FLOAT16", "FLOAT64", "BFLOAT16")


@dataclass(frozen=True)
class TfliteOp:
    """One operator of a .tflite file and the types of its tensors.

    Args:
        name: The builtin operator's name (``CONV_2D``).
        inputs: Type names of its input tensors (``INT8``, ``INT32``, ``FLOAT32``).
        outputs: Type names of its output tensors.
        macs: Multiply-accumulates per inference of a convolution, depthwise convolution
            or fully connected operator, from its weight and output shapes (0 for others).
    """

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    macs: int = 0

    @property
    def computes_in_float(self) -> bool:
        """Whether it computes in float: a float output, other than a DEQUANTIZE's."""
        return self.name != "DEQUANTIZE" and any(t in _FLOAT_TYPES for t in self.outputs)

    def __str__(self) -> str:
        """``CONV_2D(INT8, INT8, INT32 -> INT8)``."""
        return f"{self.name}({', '.join(self.inputs)} -> {', '.join(self.outputs)})"


@dataclass(frozen=True)
class TensorQuantization:
    """Type, shape and quantization of a model's input or output tensor.

    Args:
        dtype: Type name (``INT8`` or ``FLOAT32``).
        shape: The tensor's shape (batch 1).
        scale: ``real = scale * (q - zero_point)``; ``None`` for a float tensor.
        zero_point: The int8 value of real 0; ``None`` for a float tensor.
    """

    dtype: str
    shape: tuple[int, ...]
    scale: float | None
    zero_point: int | None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-able data."""
        return {
            "dtype": self.dtype,
            "shape": list(self.shape),
            "scale": self.scale,
            "zero_point": self.zero_point,
        }


def _schema() -> Any:
    require("ai_edge_litert", "tflite")
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def _names(enum: type) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_")}


def _graph(data: bytes) -> tuple[Any, Any]:
    schema = _schema()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(data), 0))
    return model, model.subgraphs[0]


def strip_tensor_names(data: bytes) -> bytes:
    """Return the .tflite file without its tensor and subgraph names.

    The converter names every tensor after the PyTorch module path that made it
    (``tinyconv.model.TinyNet/tinyconv.blocks.conv_block.ConvBlock_conv1/...``): on a model
    of a few thousand parameters those strings are a quarter to over a third of the file, and
    neither LiteRT nor TFLite Micro reads them (operators address tensors by index). The
    weights, quantization, operators and signature definitions are kept, so both runtimes
    compute the same outputs from the stripped file.

    Args:
        data: A .tflite flatbuffer.

    Returns:
        The same model, serialised again with empty names.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> from tinyconv.export.tflite import tflite_bytes
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=3)], seed=0).eval()
        >>> named = tflite_bytes(net, keep_names=True)
        >>> stripped = strip_tensor_names(named)
        >>> len(stripped) < len(named), tflite_ops(stripped) == tflite_ops(named)
        (True, True)
    """
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(bytearray(data), 0))
    for subgraph in model.subgraphs:
        subgraph.name = None
        for tensor in subgraph.tensors:
            tensor.name = None
    builder = flatbuffers.Builder(len(data))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _macs(name: str, weight: tuple[int, ...], output: tuple[int, ...]) -> int:
    """Multiply-accumulates of one operator from its weight and output shapes.

    Example:
        >>> _macs("CONV_2D", (8, 3, 3, 4), (1, 26, 26, 8)), _macs("MEAN", (), (1, 8))
        (194688, 0)
        >>> _macs("DEPTHWISE_CONV_2D", (1, 3, 3, 8), (1, 26, 26, 8))
        48672
    """
    outputs = math.prod(output)
    if name == "CONV_2D":  # weights [out, kh, kw, in]
        return outputs * math.prod(weight[1:])
    if name == "DEPTHWISE_CONV_2D":  # weights [1, kh, kw, out]
        return outputs * weight[1] * weight[2]
    if name == "FULLY_CONNECTED":  # weights [out, in]
        return outputs * weight[-1]
    return 0


def tflite_ops(data: bytes) -> tuple[TfliteOp, ...]:
    """List the operators of a .tflite file's main subgraph, in execution order.

    Args:
        data: The file's bytes.

    Returns:
        One :class:`TfliteOp` per operator.

    Raises:
        MissingExtraError: If the ``[tflite]`` extra is not installed.
    """
    schema = _schema()
    ops, types = _names(schema.BuiltinOperator), _names(schema.TensorType)
    model, graph = _graph(data)
    out = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        name = ops.get(builtin, str(builtin))
        shapes = [tuple(int(d) for d in graph.tensors[i].shape) for i in op.inputs if i >= 0]
        output = tuple(int(d) for d in graph.tensors[op.outputs[0]].shape)
        out.append(
            TfliteOp(
                name=name,
                inputs=tuple(types[graph.tensors[i].type] for i in op.inputs if i >= 0),
                outputs=tuple(types[graph.tensors[i].type] for i in op.outputs),
                macs=_macs(name, shapes[1] if len(shapes) > 1 else (), output),
            )
        )
    return tuple(out)


def io_quantization(data: bytes) -> tuple[TensorQuantization, TensorQuantization]:
    """Read the type, shape, scale and zero point of a .tflite file's input and output.

    Args:
        data: The file's bytes (one input, one output).

    Returns:
        ``(input, output)``.

    Raises:
        MissingExtraError: If the ``[tflite]`` extra is not installed.
    """
    types = _names(_schema().TensorType)
    _, graph = _graph(data)

    def read(index: int) -> TensorQuantization:
        tensor = graph.tensors[index]
        quant = tensor.quantization
        quantized = quant is not None and quant.scale is not None and len(quant.scale) == 1
        return TensorQuantization(
            dtype=types[tensor.type],
            shape=tuple(int(d) for d in tensor.shape),
            scale=float(quant.scale[0]) if quantized else None,
            zero_point=int(quant.zeroPoint[0]) if quantized else None,
        )

    return read(graph.inputs[0]), read(graph.outputs[0])


def quantize_input(
    images: torch.Tensor | np.ndarray, quantization: TensorQuantization
) -> np.ndarray:
    """Turn normalised float images into the values a .tflite input takes.

    For an int8 input, ``q = round(x / scale) + zero_point`` clipped to ``[-128, 127]``,
    rounding halves away from zero as TFLite's QUANTIZE kernel does; a float input gets
    the images as float32 unchanged.

    Args:
        images: Float images ``[N, C, H, W]`` normalised as in training.
        quantization: The input's, from :func:`io_quantization`.

    Returns:
        An int8 (or float32) array of the same shape.

    Example:
        >>> q = TensorQuantization("INT8", (1, 1, 2, 2), scale=0.5, zero_point=-3)
        >>> quantize_input(np.array([[[[0.0, 0.25], [-0.25, 100.0]]]]), q).ravel().tolist()
        [-3, -2, -4, 127]
    """
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else images
    array = np.asarray(array, dtype=np.float32)
    if quantization.scale is None or quantization.zero_point is None:
        return array
    scaled = array.astype(np.float64) / quantization.scale
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.clip(rounded + quantization.zero_point, -128, 127).astype(np.int8)
