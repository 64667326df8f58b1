"""Deploy to a device: BatchNorm folding, ONNX export, int8 quantization, device costs.

:func:`export_model` goes from a trained model (or model file) to an fp32 and an int8
ONNX file and an :class:`ExportReport` of what a device pays: bytes of weights and files,
peak activation memory at batch 1, MACs, batch-1 latency and test accuracy of each stage.
Its parts are usable alone: :func:`fold_batchnorm`, :func:`export_onnx`,
:func:`quantize_int8`. ONNX work needs the optional extra (``pip install
'tinyconv[export]'``: onnx, onnxscript, onnxruntime); this package imports them only
when called, and ``import tinyconv`` does not import this package.
"""

from tinyconv.export.errors import CalibrationDataError, ExportError, UntrainedModelError
from tinyconv.export.fold import FoldDecision, FoldReport, fold_batchnorm
from tinyconv.export.latency import Latency, measure_latency
from tinyconv.export.onnx import export_onnx, onnx_logits
from tinyconv.export.pipeline import check_trained, export_model
from tinyconv.export.quantize import check_calibration_images, quantize_int8
from tinyconv.export.report import ExportReport, LayerCost, deploy_rst, load_report
from tinyconv.export.session import onnx_session, tiny_model_session

__all__ = [
    "CalibrationDataError",
    "ExportError",
    "ExportReport",
    "FoldDecision",
    "FoldReport",
    "Latency",
    "LayerCost",
    "UntrainedModelError",
    "check_calibration_images",
    "check_trained",
    "deploy_rst",
    "export_model",
    "export_onnx",
    "fold_batchnorm",
    "load_report",
    "measure_latency",
    "onnx_logits",
    "onnx_session",
    "quantize_int8",
    "tiny_model_session",
]
