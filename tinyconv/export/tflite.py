"""``tflite_bytes``: a folded model as a LiteRT (TensorFlow Lite) flatbuffer, fp32 or int8.

The int8 path is PT2E post-training quantization, the maintained route from PyTorch to
LiteRT: ``torch.export`` captures the model, torchao's ``prepare_pt2e`` inserts observers
chosen by litert-torch's quantizer (symmetric per-channel int8 weights, int8 activations
whose ranges a histogram observer measures on calibration images), ``convert_pt2e``
turns them into quantize/dequantize pairs, and ``litert_torch.convert`` lowers the graph
to a .tflite whose input and output are int8 (their scale and zero point are in the
file; :func:`~tinyconv.export.tflite_graph.io_quantization` reads them).

A BatchNorm that :func:`~tinyconv.export.fold_batchnorm` had to keep (V5's, before
squeeze-excitation) is the per-channel map ``s * x + t``. It is written as the 1x1
depthwise convolution computing exactly that map (weight ``s``, bias ``t``), so it runs as
an int8 convolution instead of a float island of SUB/MUL/ADD between DEQUANTIZE and
QUANTIZE; :func:`batchnorm_as_depthwise` says which. These functions need the
``[tflite]`` extra (``pip install 'tinyconv[tflite]'``); importing this module does not.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from tinyconv._extras import require
from tinyconv.errors import ModelGraphError
from tinyconv.export._native_output import native_output
from tinyconv.export.errors import ExportError
from tinyconv.export.tflite_graph import strip_tensor_names
from tinyconv.layer_info import input_shape

__all__ = ["batchnorm_as_depthwise", "tflite_bytes"]

_CALIBRATION_BATCH = 128


def batchnorm_as_depthwise(model: nn.Module) -> tuple[nn.Module, tuple[str, ...]]:
    """Replace every BatchNorm2d of an eval-mode model by the 1x1 depthwise convolution it is.

    In eval mode ``BN(x) = s * x + t`` per channel, with ``s = gamma / sqrt(var + eps)``
    and ``t = beta - mean * s`` (computed in float64): a depthwise 1x1 convolution with
    weight ``s`` and bias ``t``. The model is changed in place; pass a copy (the output of
    :func:`~tinyconv.export.fold_batchnorm` is one).

    Args:
        model: A model in eval mode whose BatchNorms have running statistics.

    Returns:
        ``(model, names)``: the model and the names of the BatchNorms replaced.

    Raises:
        ExportError: If a BatchNorm has no running statistics (it normalises with the
            statistics of each batch, which no fixed convolution computes).

    Example:
        >>> net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3)).eval()
        >>> x = torch.randn(2, 1, 8, 8)
        >>> before = net(x)
        >>> net, names = batchnorm_as_depthwise(net)
        >>> names, net[1].groups, bool((net(x) - before).abs().max() < 1e-6)
        (('1',), 3, True)
    """
    names = []
    for name, norm in list(model.named_modules()):
        if not isinstance(norm, nn.BatchNorm2d):
            continue
        if norm.running_mean is None or norm.running_var is None:
            raise ExportError(
                f"BatchNorm {name} has no running statistics (track_running_stats=False), so "
                "it normalises each batch by itself and has no fixed int8 form; train it "
                "with running statistics to export it"
            )
        scale = torch.rsqrt(norm.running_var.double() + norm.eps)
        shift = -norm.running_mean.double() * scale
        if norm.affine:
            scale = scale * norm.weight.double()
            shift = shift * norm.weight.double() + norm.bias.double()
        channels = norm.num_features
        conv = nn.Conv2d(channels, channels, 1, groups=channels).to(norm.running_var.device)
        with torch.no_grad():
            conv.weight.copy_(scale.view(-1, 1, 1, 1).to(conv.weight.dtype))
            conv.bias.copy_(shift.to(conv.bias.dtype))  # type: ignore[union-attr]
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent), child, conv.eval())
        names.append(name)
    return model, tuple(names)


def _litert_torch() -> Any:
    with native_output():  # its first import prints native start-up notes
        litert_torch = require("litert_torch", "tflite")
    litert_torch.config.show_progress = False
    return litert_torch


def _quantized_graph(model: nn.Module, calibration: torch.Tensor) -> tuple[nn.Module, object]:
    """Capture, observe on the calibration images, and convert to quantize/dequantize pairs."""
    require("torchao", "tflite")
    from litert_torch.quantize.pt2e_quantizer import (
        PT2EQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = PT2EQuantizer().set_global(
        get_symmetric_quantization_config(is_per_channel=True, is_dynamic=False)
    )
    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    example = (calibration[:2] if len(calibration) > 1 else calibration.repeat(2, 1, 1, 1),)
    captured = torch.export.export(model, example, dynamic_shapes=({0: batch},)).module()
    prepared = prepare_pt2e(captured, quantizer)  # type: ignore[arg-type]
    with torch.no_grad():
        for start in range(0, len(calibration), _CALIBRATION_BATCH):
            prepared(calibration[start : start + _CALIBRATION_BATCH])
    return convert_pt2e(prepared, fold_quantize=False), quantizer


def tflite_bytes(
    model: nn.Module, calibration: torch.Tensor | None = None, *, keep_names: bool = False
) -> bytes:
    """Convert a model to a batch-1 .tflite flatbuffer: fp32, or int8 when calibrated.

    BatchNorms are first written as depthwise convolutions
    (:func:`batchnorm_as_depthwise`, on a copy); fold them beforehand with
    :func:`~tinyconv.export.fold_batchnorm` so that only the ones that cannot fold remain.
    The tensor names the converter writes are dropped
    (:func:`~tinyconv.export.tflite_graph.strip_tensor_names`): no runtime reads them.

    Args:
        model: A TinyNet in eval mode (its ``input_shape`` gives the
            input shape ``[1, C, H, W]``, in PyTorch's channels-first layout).
        calibration: ``None`` for an fp32 file; else float images ``[N, C, H, W]``
            normalised as in training (training images, never test images) that fix the
            int8 activation ranges. The int8 file then has int8 input and output.
        keep_names: Keep the tensor names (the PyTorch module paths), e.g. to read the
            graph in a viewer; they cost flash and nothing else.

    Returns:
        The .tflite file's bytes.

    Raises:
        MissingExtraError: If the ``[tflite]`` extra is not installed.
        ExportError: If the model has no known input shape, or capture or conversion
            fails (the message carries the converter's own error).

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=3)], seed=0).eval()
        >>> data = tflite_bytes(net, calibration=torch.randn(16, 1, 28, 28))
        >>> data[4:8]  # the flatbuffer's file identifier
        b'TFL3'
    """
    import copy

    litert_torch = _litert_torch()
    try:
        channels, height, width = input_shape(model)
    except ModelGraphError as error:
        raise ExportError(
            f"tflite_bytes reads the input shape from a TinyNet (made by tinyconv.build or "
            f"read by tinyconv.load), got a {type(model).__name__}"
        ) from error
    prepared, _ = batchnorm_as_depthwise(copy.deepcopy(model).eval())
    sample = (torch.zeros(1, channels, height, width),)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # litert-torch warns through the root logger
    printed = None
    try:
        with native_output() as printed, torch.no_grad():
            if calibration is None:
                edge = litert_torch.convert(prepared, sample)
            else:
                from litert_torch.quantize.quant_config import QuantConfig

                graph, quantizer = _quantized_graph(prepared, calibration.float())
                config = QuantConfig(pt2e_quantizer=quantizer)  # type: ignore[arg-type]
                edge = litert_torch.convert(graph, sample, quant_config=config)
            data = bytes(edge.model_content())
    except Exception as error:  # the converters' own error types vary by version
        tail = " | ".join(printed.text.strip().splitlines()[-3:]) if printed else ""
        raise ExportError(
            f"litert-torch could not convert {type(model).__name__} "
            f"({'fp32' if calibration is None else 'int8'}): {type(error).__name__}: {error}"
            + (f" [converter output: {tail}]" if tail else "")
        ) from error
    finally:
        root.setLevel(level)
    return data if keep_names else strip_tensor_names(data)
