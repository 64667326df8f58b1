"""The .tflite target: :class:`TfliteTarget` and :func:`export_tflite`.

From the job (:mod:`tinyconv.export.job`: the trained model, its folded copy, test images
and reference logits) it converts the folded copy to an fp32 .tflite and, with ``int8``,
quantizes it (PT2E, calibrated on training images) to an int8 .tflite with int8 input and
output; verifies each file in LiteRT on the test images and in TFLite Micro on the first
of them; reads TFLite Micro's arena; writes the deployed file (int8 if made) as a C source
and header, and a :class:`~tinyconv.export.TfliteReport`. A file that fails verification
is refused (nothing is written: :func:`~tinyconv.export.export_as` moves the folder into
place only after every check passed). :func:`export_tflite` is
:func:`~tinyconv.export.export_as` with this target.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tinyconv.data.scoring import argmax_agreement, top1_accuracy
from tinyconv.device_costs import peak_activation_elements
from tinyconv.device_estimate import estimate_device
from tinyconv.errors import ModelGraphError
from tinyconv.export.c_array import firmware_sources
from tinyconv.export.errors import CalibrationDataError, ExportError, VerificationError
from tinyconv.export.int8_drop import MAX_INT8_DROP_POINTS, check_drop_limit, int8_drop
from tinyconv.export.job import ExportJob
from tinyconv.export.litert import dequantize_output, litert_logits
from tinyconv.export.micro import micro_arena, micro_logits
from tinyconv.export.pipeline import export_as
from tinyconv.export.tflite import batchnorm_as_depthwise, tflite_bytes
from tinyconv.export.tflite_graph import io_quantization, require_tflite_extra, tflite_ops
from tinyconv.export.tflite_report import TfliteReport
from tinyconv.normalization import Normalization
from tinyconv.provenance import environment

__all__ = ["FP32_LOGIT_TOLERANCE", "TfliteTarget", "export_tflite"]

FP32_LOGIT_TOLERANCE = 1e-3
"""Largest |logit difference| allowed between the fp32 .tflite in LiteRT and PyTorch."""

_PACKAGES = ("torch", "litert-torch", "ai-edge-litert", "tflite-micro", "torchao")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise VerificationError(f"{message}; no file was written")


def _verify_micro(
    kind: str, data: bytes, sample: torch.Tensor, litert: np.ndarray, parity: dict[str, object]
) -> np.ndarray:
    """Run ``sample`` in TFLite Micro; refuse unless it computes what LiteRT computes.

    TFLite Micro runs LiteRT's reference kernels, so an int8 file must give the same
    int8 logits as LiteRT's reference kernels bit for bit (an fp32 file: the same
    predictions). LiteRT's optimised kernels (XNNPACK) round int8 differently by a step
    or two, which can flip a near tie: their agreement is recorded, not required.

    Returns:
        TFLite Micro's dequantized logits.
    """
    raw = micro_logits(data, sample, raw=True)
    quant_out = io_quantization(data)[1]
    micro = dequantize_output(raw, quant_out)
    reference_raw = litert_logits(data, sample, raw=True, reference_kernels=True)
    parity[f"micro_vs_litert_argmax_agreement_{kind}"] = argmax_agreement(micro, litert)
    if kind == "int8":
        steps = np.abs(raw.astype(np.int32) - reference_raw.astype(np.int32))
        parity["micro_vs_litert_reference_max_steps_int8"] = int(steps.max())
        optimised = np.rint(litert / quant_out.scale).astype(np.int32) + quant_out.zero_point
        parity["micro_vs_litert_max_steps_int8"] = int(np.abs(raw - optimised).max())
        same = int((steps.max(1) == 0).sum())
        _check(
            same == len(sample),
            f"TFLite Micro's int8 logits differ from LiteRT's reference kernels on "
            f"{len(sample) - same} of the first {len(sample)} test images",
        )
    else:
        reference = dequantize_output(reference_raw, quant_out)
        parity["micro_vs_litert_reference_max_abs_logit_fp32"] = float(
            np.abs(micro - reference).max()
        )
        agreement = argmax_agreement(micro, reference)
        _check(
            agreement == 1.0,
            f"TFLite Micro and LiteRT's reference kernels predict differently on "
            f"{100 * (1 - agreement):.2f} % of the first {len(sample)} test images (fp32 file)",
        )
    return micro


def _cortex_m4_estimate(model: nn.Module) -> dict[str, object] | None:
    """The model's flash, arena and instructions on a Cortex-M4, estimated (or ``None``)."""
    try:
        found = estimate_device(model, "cortex-m4")
    except ModelGraphError:
        return None
    return {
        "flash_bytes": found.flash_bytes,
        "arena_bytes": found.arena_bytes,
        "instructions": found.instructions,
        "largest_errors": found.errors,
        "measured_models": found.measured_models,
    }


@dataclass(frozen=True)
class TfliteTarget:
    """.tflite files verified in LiteRT and TFLite Micro, with C sources for firmware.

    Writes ``<stem>.tflite`` (fp32), with ``int8`` also ``<stem>.int8.tflite``;
    ``<stem>_model.h`` and ``<stem>_model.c`` (the deployed file, int8 if made, as a C
    array with its arena and input constants); and ``<stem>.tflite.json``.

    Args:
        int8: Also write the int8 file (int8 input and output).
        calibration_images: How many training images (the first N) calibrate int8.
        micro_images: Verify in TFLite Micro on the first N test images scored.
        max_int8_drop_points: Refuse an int8 file whose LiteRT accuracy is more than this
            many points below PyTorch's fp32 accuracy, more than one image below and more
            than the noise (:func:`~tinyconv.export.int8_drop.int8_drop`); ``None``:
            record only.
        keep_names: Keep the tensor names (PyTorch module paths) in the files; by default
            they are dropped (:func:`~tinyconv.export.tflite_graph.strip_tensor_names`),
            which leaves the outputs the same and takes a quarter to over a third off
            a small model's flash.

    Example:
        >>> from tinyconv.export import TfliteTarget, export_as
        >>> export_as("mnist_v5", "deploy", TfliteTarget(int8=True))  # doctest: +SKIP
    """

    int8: bool = True
    calibration_images: int = 1000
    micro_images: int = 1000
    max_int8_drop_points: float | None = MAX_INT8_DROP_POINTS
    keep_names: bool = False

    def check(self) -> None:
        """Refuse settings this target cannot use, before any export work.

        Raises:
            CalibrationDataError: For a calibration count below 1.
            ExportError: For ``micro_images`` below 1 or a bad drop limit.
            MissingExtraError: If the ``[tflite]`` extra is not installed.
        """
        check_drop_limit(self.max_int8_drop_points)
        if self.micro_images < 1:
            raise ExportError(f"micro_images must be >= 1, got {self.micro_images}")
        if self.int8 and self.calibration_images < 1:
            raise CalibrationDataError(
                f"calibration_images must be >= 1, got {self.calibration_images}"
            )
        require_tflite_extra()

    def write(self, job: ExportJob, staged: Path) -> TfliteReport:
        """Convert, verify and write ``job``'s model as .tflite files and C sources.

        Args:
            job: The resolved model (:func:`~tinyconv.export.job.prepare_export`).
            staged: The folder to write into.

        Returns:
            The report (also written as ``<stem>.tflite.json``).

        Raises:
            VerificationError: If a file disagrees with PyTorch or LiteRT beyond the limits.
            MissingExtraError: If the ``[tflite]`` extra is not installed.
        """
        return _write(self, job, staged)


def export_tflite(
    model_or_path: nn.Module | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    int8: bool = True,
    calibration_images: int = 1000,
    data_root: str | os.PathLike[str] | None = None,
    test_images: int | None = None,
    micro_images: int = 1000,
    max_int8_drop_points: float | None = MAX_INT8_DROP_POINTS,
    keep_names: bool = False,
    name: str | None = None,
    dataset: str | None = None,
    overwrite: bool = False,
) -> TfliteReport:
    """Export a trained model to verified .tflite files, C sources and a report.

    :func:`~tinyconv.export.export_as` with a :class:`TfliteTarget` of these settings.
    All or nothing: the folder is built aside and moved into place whole; a folder that
    holds files already is refused unless ``overwrite``.

    Args:
        model_or_path: A trained TinyNet in eval mode, a model file (``tinyconv.save``)
            or the name of a model tinyconv ships.
        out_dir: Output folder (created; must be new or empty unless ``overwrite``).
        int8: As :class:`TfliteTarget`.
        calibration_images: As :class:`TfliteTarget`.
        data_root: Where the dataset lives (default ``$TINYCONV_DATA``).
        test_images: Verify in LiteRT on the first N test images (``None``: all).
        micro_images: As :class:`TfliteTarget`.
        max_int8_drop_points: As :class:`TfliteTarget`.
        keep_names: As :class:`TfliteTarget`.
        name: Base name of the files (default: the model file's name, or ``model``).
        dataset: The registered dataset to calibrate and score on (default: the one the
            model records).
        overwrite: Replace ``out_dir`` whole if it holds an earlier export (and nothing
            else).

    Returns:
        The report (also saved as JSON).

    Raises:
        ModelFileError: For a missing, corrupt or non-tinyconv model file.
        UntrainedModelError: For a model in training mode or never trained.
        CalibrationDataError: For a calibration count below 1.
        VerificationError: If a file disagrees with PyTorch or LiteRT beyond the limits.
        MissingExtraError: If the ``[tflite]`` extra is not installed.
        OutputExistsError: If ``out_dir`` holds files and ``overwrite`` is false.
        OutputPathError: If ``out_dir`` is a file, holds other files, or is read-only.
        ExportError: For other input it cannot handle.
    """
    target = TfliteTarget(
        int8=int8, calibration_images=calibration_images, micro_images=micro_images,
        max_int8_drop_points=max_int8_drop_points, keep_names=keep_names,
    )  # fmt: skip
    return export_as(
        model_or_path, out_dir, target, name=name, dataset=dataset, data_root=data_root,
        test_images=test_images, overwrite=overwrite,
    )  # fmt: skip


def _write(target: TfliteTarget, job: ExportJob, staged: Path) -> TfliteReport:
    """Everything :meth:`TfliteTarget.write` does."""
    int8, stem, model, folded = target.int8, job.stem, job.model, job.folded
    files = {"tflite_fp32": job.file(".tflite")}
    if int8:
        files["tflite_int8"] = job.file(".int8.tflite")
    files |= {"header": job.file("_model.h"), "source": job.file("_model.c")}
    files["report"] = job.file(".tflite.json")
    x_test, y_test, reference, test = job.images, job.labels, job.reference, job.test
    data_name, source = job.dataset, job.source
    max_int8_drop_points = target.max_int8_drop_points
    sample = x_test[: target.micro_images]
    datas = {"fp32": tflite_bytes(folded, keep_names=target.keep_names)}
    calibration = {}
    if int8:
        images = job.training_images(target.calibration_images)  # never test images
        datas["int8"] = tflite_bytes(folded, images, keep_names=target.keep_names)
        calibration = {
            "images": len(images),
            "source": f"first {len(images)} {data_name} training images",
        }
    accuracy: dict[str, object] = {
        "test_images": len(x_test),
        "micro_images": len(sample),
        "pytorch": top1_accuracy(reference, y_test),
    }
    parity: dict[str, object] = {}
    arenas, litert_by_kind = {}, {}
    for kind, data in datas.items():
        litert = litert_by_kind[kind] = litert_logits(data, x_test)
        accuracy[f"litert_{kind}"] = top1_accuracy(litert, y_test)
        micro = _verify_micro(kind, data, sample, litert[: len(sample)], parity)
        accuracy[f"micro_{kind}"] = top1_accuracy(micro, y_test)
        arenas[kind] = micro_arena(data).to_dict()
    fp32 = litert_by_kind["fp32"]
    parity["litert_fp32_vs_pytorch_max_abs_logit"] = float(np.abs(fp32 - reference).max())
    parity["litert_fp32_argmax_agreement"] = argmax_agreement(fp32, reference)
    _check(
        parity["litert_fp32_argmax_agreement"] == 1.0
        and parity["litert_fp32_vs_pytorch_max_abs_logit"] <= FP32_LOGIT_TOLERANCE,
        f"the fp32 .tflite differs from PyTorch in LiteRT (argmax agreement "
        f"{parity['litert_fp32_argmax_agreement']:.4f}, max |dlogit| "
        f"{parity['litert_fp32_vs_pytorch_max_abs_logit']:.3g} > {FP32_LOGIT_TOLERANCE})",
    )
    quantization = {}
    if int8:
        quant_in, quant_out = io_quantization(datas["int8"])
        quantization = {"input": quant_in.to_dict(), "output": quant_out.to_dict()}
        drop = int8_drop(reference, litert_by_kind["int8"], y_test.numpy(), max_int8_drop_points)
        accuracy["int8_minus_fp32_points"] = 100 * (
            accuracy["litert_int8"] - accuracy["pytorch"]  # type: ignore[operator]
        )
        accuracy["int8_drop"] = drop.to_dict()
        _check(
            not drop.refused,
            f"the int8 .tflite scores {drop.describe()} below PyTorch fp32 in LiteRT, over "
            f"the limit of {max_int8_drop_points:.2f} points and the noise; calibrate on more "
            "images (--calibration-images) or allow more (--max-int8-drop POINTS)",
        )
    deployed = datas.get("int8", datas["fp32"])
    quant_in, quant_out = io_quantization(deployed)
    norm = Normalization.of_model(model) or test.normalization
    header, c_source = firmware_sources(
        deployed,
        f"{stem}_model",
        arena=micro_arena(deployed),
        input_quantization=quant_in,
        output_quantization=quant_out,
        mean=norm.mean,
        std=norm.std,
        source=source,
        class_names=model.class_names or test.class_names,
    )
    estimate = peak_activation_elements(folded, model.input_shape)
    kept = list(batchnorm_as_depthwise(copy.deepcopy(folded))[1])  # it rewrites in place
    report = TfliteReport(
        model=source,
        dataset=data_name,
        files=files,
        file_bytes={kind: len(data) for kind, data in datas.items()},
        ops={kind: [str(op) for op in tflite_ops(data)] for kind, data in datas.items()},
        float_ops=[str(op) for op in tflite_ops(deployed) if op.computes_in_float] if int8 else [],
        kept_batchnorms=kept,
        fold=job.fold.to_dict(),
        arena=arenas,
        estimate={
            "peak_activation_bytes_fp32": 4 * estimate,
            "peak_activation_bytes_int8": estimate,
            "int8_activation_ratio": arenas["int8"]["activation_bytes"] / estimate
            if int8 and estimate
            else None,
            "fp32_activation_ratio": arenas["fp32"]["activation_bytes"] / (4 * estimate)
            if estimate
            else None,
            "cortex_m4": _cortex_m4_estimate(model),
        },
        quantization=quantization,
        accuracy=accuracy,
        parity=parity,
        calibration=calibration,
        environment=environment(_PACKAGES),
        normalization=norm.to_dict(),
    )
    contents = {
        files["tflite_fp32"]: datas["fp32"],
        files["header"]: header.encode(),
        files["source"]: c_source.encode(),
        files["report"]: (json.dumps(report.to_dict(), indent=2) + "\n").encode(),
    }
    if int8:
        contents[files["tflite_int8"]] = datas["int8"]
    for file, content in contents.items():
        (staged / file).write_bytes(content)
    return report
