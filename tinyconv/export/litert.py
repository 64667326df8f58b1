"""``litert_logits``: run a .tflite file on images with the LiteRT interpreter.

LiteRT (formerly TensorFlow Lite) is the runtime of phones and Linux boards; its
interpreter runs a file with its optimised CPU kernels (XNNPACK included), or with its
reference kernels, the plain C++ code that TFLite Micro shares. Images go in as
normalised floats and are quantized for an int8 input (:func:`~.tflite_graph.quantize_input`);
logits come back dequantized to float, or raw. Needs the ``[tflite]`` extra.
"""

from __future__ import annotations

import numpy as np
import torch

from tinyconv._extras import require
from tinyconv.export._native_output import native_output
from tinyconv.export.tflite_graph import TensorQuantization, io_quantization, quantize_input

__all__ = ["dequantize_output", "litert_logits"]


def dequantize_output(raw: np.ndarray, quantization: TensorQuantization) -> np.ndarray:
    """Turn a model's raw output into float logits: ``scale * (q - zero_point)``.

    Args:
        raw: Outputs as the file returns them (int8, or float32 for a float output).
        quantization: The output's, from :func:`~.tflite_graph.io_quantization`.

    Returns:
        A float32 array of the same shape.

    Example:
        >>> q = TensorQuantization("INT8", (1, 3), scale=0.5, zero_point=-1)
        >>> dequantize_output(np.array([[-1, 1, 3]], dtype=np.int8), q).tolist()
        [[0.0, 1.0, 2.0]]
    """
    if quantization.scale is None or quantization.zero_point is None:
        return raw.astype(np.float32)
    return (quantization.scale * (raw.astype(np.float64) - quantization.zero_point)).astype(
        np.float32
    )


def litert_logits(
    data: bytes,
    images: torch.Tensor | np.ndarray,
    *,
    reference_kernels: bool = False,
    raw: bool = False,
) -> np.ndarray:
    """Run normalised float images one at a time (batch 1) through a .tflite file in LiteRT.

    Args:
        data: The .tflite file's bytes (one input ``[1, C, H, W]``, one output).
        images: Float images ``[N, C, H, W]``, normalised as in training.
        reference_kernels: Use LiteRT's reference kernels (the code TFLite Micro runs)
            instead of its optimised ones.
        raw: Return the output as the file gives it (int8 for an int8 file) instead of
            dequantized float logits.

    Returns:
        ``[N, num_classes]`` logits: float32, or the raw output type with ``raw``.

    Raises:
        MissingExtraError: If the ``[tflite]`` extra is not installed.
    """
    require("ai_edge_litert", "tflite")
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    with native_output():  # it announces its XNNPACK delegate on stderr
        interpreter = Interpreter(
            model_content=data, num_threads=1, experimental_op_resolver_type=resolver
        )
        interpreter.allocate_tensors()
    source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    quant_in, quant_out = io_quantization(data)
    inputs = quantize_input(images, quant_in)
    outputs = []
    for image in inputs:
        interpreter.set_tensor(source["index"], image[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(target["index"])[0].copy())
    stacked = np.stack(outputs) if outputs else np.zeros((0, *quant_out.shape[1:]))
    return stacked if raw else dequantize_output(stacked, quant_out)
