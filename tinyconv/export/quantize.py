"""``quantize_int8``: static post-training int8 quantization of an ONNX model.

onnxruntime's ``quantize_static`` writes a QDQ model (QuantizeLinear/DequantizeLinear
pairs around every quantized operation) with symmetric per-channel int8 weights and
int8 activations whose ranges come from a MinMax calibration: the float model is run on
calibration images and each activation's observed range fixes its scale. A BatchNorm that
:func:`~tinyconv.export.fold_batchnorm` had to keep stays a float operation. Calibrate on
*training* images, never on the test set the int8 accuracy is then measured on.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tinyconv._extras import require
from tinyconv.atomic import atomic_write
from tinyconv.export.errors import CalibrationDataError

__all__ = ["check_calibration_images", "quantize_int8"]


def check_calibration_images(images: object, input_shape: tuple[int, ...]) -> torch.Tensor:
    """Return ``images`` as float32 if they are normalised images the model accepts.

    Args:
        images: Calibration images, float ``[N, C, H, W]`` normalised as in training.
        input_shape: The model's ``(C, H, W)``.

    Returns:
        The images as a float32 CPU tensor.

    Raises:
        CalibrationDataError: For a non-tensor, an integer dtype, another shape, no
            images, or non-finite values; the message says what was expected.

    Example:
        >>> check_calibration_images(torch.zeros(4, 1, 28, 28), (1, 28, 28)).shape
        torch.Size([4, 1, 28, 28])
        >>> check_calibration_images(torch.zeros(4, 28, 28), (1, 28, 28))
        Traceback (most recent call last):
        ...
        tinyconv.export.errors.CalibrationDataError: calibration images must have shape [N, 1, 28, 28] (the model's input), got [4, 28, 28]; add the channel dimension with images.unsqueeze(1)
    """  # noqa: E501
    want = "[N, " + ", ".join(map(str, input_shape)) + "]"
    if not isinstance(images, torch.Tensor):
        raise CalibrationDataError(
            f"calibration images must be a float tensor {want}, got {type(images).__name__}"
        )
    got = "[" + ", ".join(map(str, images.shape)) + "]"
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(input_shape):
        hint = ""
        if images.ndim == 3 and tuple(images.shape[1:]) == tuple(input_shape[1:]):
            hint = "; add the channel dimension with images.unsqueeze(1)"
        elif images.ndim == 4:
            hint = "; calibrate with images of the size and channels the model was trained on"
        raise CalibrationDataError(
            f"calibration images must have shape {want} (the model's input), got {got}{hint}"
        )
    if not images.is_floating_point():
        raise CalibrationDataError(
            f"calibration images must be float and normalised as in training, got dtype "
            f"{images.dtype}; use (images.float() / 255 - mean) / std"
        )
    if len(images) == 0:
        raise CalibrationDataError("no calibration images; pass at least one (hundreds help)")
    if not bool(torch.isfinite(images).all()):
        raise CalibrationDataError("calibration images contain NaN or infinite values")
    return images.detach().cpu().float()


def _reader(images: torch.Tensor, input_name: str, batch_size: int) -> Any:
    """A ``CalibrationDataReader`` over ``images`` in batches (made here: it needs onnxruntime)."""
    quantization = require("onnxruntime.quantization", "export")

    class _ImageReader(quantization.CalibrationDataReader):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            array = images.numpy().astype(np.float32)
            self._batches: Iterator[np.ndarray] = iter(
                [array[i : i + batch_size] for i in range(0, len(array), batch_size)]
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {input_name: batch}

    return _ImageReader()


def quantize_int8(
    fp32_path: str | os.PathLike[str],
    int8_path: str | os.PathLike[str],
    calibration_images: torch.Tensor,
    *,
    batch_size: int = 100,
) -> Path:
    """Quantize an fp32 ONNX model to int8 (QDQ, per-channel weights), calibrated on images.

    Args:
        fp32_path: The fp32 ONNX model (from :func:`~tinyconv.export.onnx.export_onnx`).
        int8_path: Destination file; written atomically.
        calibration_images: Float ``[N, C, H, W]`` *training* images, normalised as in
            training.
        batch_size: Images per calibration run.

    Returns:
        The destination path.

    Raises:
        MissingExtraError: If ``onnx`` or ``onnxruntime`` is not installed.
        CalibrationDataError: If the images do not fit the model's input.
    """
    onnx = require("onnx", "export")
    quantization = require("onnxruntime.quantization", "export")
    graph_input = onnx.load(str(fp32_path)).graph.input[0]
    dims = graph_input.type.tensor_type.shape.dim[1:]
    images = check_calibration_images(calibration_images, tuple(d.dim_value for d in dims))
    float_ops = [
        node.name
        for node in onnx.load(str(fp32_path)).graph.node
        if node.op_type == "BatchNormalization"  # a BatchNorm that could not be folded
    ]
    root = logging.getLogger()
    level = root.level
    with tempfile.TemporaryDirectory(prefix="tinyconv-int8-") as folder:
        prepared, staged = Path(folder) / "model.prep.onnx", Path(folder) / "model.int8.onnx"
        root.setLevel(logging.ERROR)  # onnxruntime's advice goes to the root logger
        try:
            quantization.quant_pre_process(str(fp32_path), str(prepared))
            quantization.quantize_static(
                str(prepared),
                str(staged),
                _reader(images, graph_input.name, batch_size),
                quant_format=quantization.QuantFormat.QDQ,
                per_channel=True,
                activation_type=quantization.QuantType.QInt8,
                weight_type=quantization.QuantType.QInt8,
                calibrate_method=quantization.CalibrationMethod.MinMax,
                nodes_to_exclude=float_ops,
                extra_options={"WeightSymmetric": True, "ActivationSymmetric": False},
            )
        finally:
            root.setLevel(level)
        data = staged.read_bytes()
    return atomic_write(int8_path, lambda file: file.write(data))
