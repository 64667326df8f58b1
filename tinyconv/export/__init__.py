"""Deploy to a device: BatchNorm folding, ONNX and .tflite export, int8, device costs.

One pipeline (:func:`export_as`, :mod:`tinyconv.export.pipeline`) resolves the model, its
test images and reference logits once, then a target writes the files:
:class:`OnnxTarget` or :class:`TfliteTarget` (an :class:`ExportTarget`).

:func:`export_model` goes from a trained model (or model file) to an fp32 and an int8
ONNX file and an :class:`ExportReport` of what a device pays: bytes of weights and files,
peak activation memory at batch 1, MACs, batch-1 latency and test accuracy of each stage.
Its parts are usable alone: :func:`fold_batchnorm`, :func:`export_onnx`,
:func:`quantize_int8`. With ``qat_epochs`` the int8 model comes from quantization-aware
fine-tuning instead (:func:`fine_tune_quantization_aware`, PT2E in torchao), written and checked
the same way. ONNX work needs the optional extra (``pip install
'tinyconv[export]'``: onnx, onnxscript, onnxruntime, torchao); this package imports them only
when called, and ``import tinyconv`` does not import this package.

:func:`export_tflite` goes to the microcontroller runtime instead: an fp32 and an int8
.tflite file (PT2E quantization, converted with litert-torch), verified in LiteRT and in
TensorFlow Lite Micro, whose recording allocator gives the real tensor arena
(:func:`micro_arena`), plus the int8 file as a C source and header for firmware. It needs
``pip install 'tinyconv[tflite]'`` (litert-torch, ai-edge-litert, tflite-micro, torchao),
again imported only when called.
"""

from tinyconv.export.errors import (
    CalibrationDataError,
    ExportError,
    UntrainedModelError,
    VerificationError,
)
from tinyconv.export.latency import measure_latency
from tinyconv.export.micro import micro_arena
from tinyconv.export.onnx import export_onnx
from tinyconv.export.onnx_report import ExportReport
from tinyconv.export.onnx_target import OnnxTarget, export_model
from tinyconv.export.pipeline import ExportTarget, export_as
from tinyconv.export.qat import (
    QuantizationAwareNet,
    QuantizationAwareResult,
    fine_tune_quantization_aware,
    fine_tune_quantization_aware_on_dataset,
)
from tinyconv.export.quantize import quantize_int8
from tinyconv.export.session import onnx_session, tiny_model_session
from tinyconv.export.tflite_report import TfliteReport
from tinyconv.export.tflite_target import TfliteTarget, export_tflite
from tinyconv.fold import FoldReport, fold_batchnorm

__all__ = [
    "CalibrationDataError",
    "ExportError",
    "ExportReport",
    "ExportTarget",
    "FoldReport",
    "OnnxTarget",
    "QuantizationAwareNet",
    "QuantizationAwareResult",
    "TfliteReport",
    "TfliteTarget",
    "UntrainedModelError",
    "VerificationError",
    "export_as",
    "export_model",
    "export_onnx",
    "export_tflite",
    "fine_tune_quantization_aware",
    "fine_tune_quantization_aware_on_dataset",
    "fold_batchnorm",
    "measure_latency",
    "micro_arena",
    "onnx_session",
    "quantize_int8",
    "tiny_model_session",
]
