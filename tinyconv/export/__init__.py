"""Deploy to a device: BatchNorm folding, ONNX export, int8 quantization, device costs."""

from tinyconv.export.errors import CalibrationDataError, ExportError, UntrainedModelError
from tinyconv.export.fold import FoldDecision, FoldReport, fold_batchnorm

__all__ = [
    "CalibrationDataError",
    "ExportError",
    "FoldDecision",
    "FoldReport",
    "UntrainedModelError",
    "fold_batchnorm",
]
