"""The ONNX target: :class:`OnnxTarget` and :func:`export_model`.

From the job (:mod:`tinyconv.export.job`: the trained model, its folded copy, test images
and reference logits) it exports the folded copy to ONNX and verifies it with
onnxruntime on the test images; with ``int8`` it quantizes to int8 by onnxruntime's
post-training calibration on training images, or by quantization-aware fine-tuning
(:mod:`tinyconv.export.qat`); it measures batch-1 latency and collects the device costs
into an :class:`~tinyconv.export.ExportReport`. :func:`export_model` is
:func:`~tinyconv.export.export_as` with this target.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from tinyconv._extras import require
from tinyconv.data.scoring import argmax_agreement, top1_accuracy
from tinyconv.device_costs import int8_weight_bytes
from tinyconv.export.errors import (
    CalibrationDataError,
    ExportError,
    VerificationError,
)
from tinyconv.export.int8_drop import MAX_INT8_DROP_POINTS, check_drop_limit, int8_drop
from tinyconv.export.job import ExportJob
from tinyconv.export.latency import onnx_latency, torch_latency
from tinyconv.export.onnx import export_onnx, onnx_logits, onnx_session
from tinyconv.export.onnx_report import ExportReport, LayerCost
from tinyconv.export.pipeline import export_as
from tinyconv.export.qat import (
    check_settings,
    fine_tune_quantization_aware_on_dataset,
    mismatches_allowed,
    require_torchao,
)
from tinyconv.export.quantize import check_calibration_images, quantize_int8
from tinyconv.parameters import count_parameters
from tinyconv.provenance import environment
from tinyconv.summary import summary

__all__ = ["OnnxTarget", "export_model"]


def _layers(folded: nn.Module) -> tuple[LayerCost, ...]:
    table = summary(folded)
    peaks = table.layer_peak_activation_bytes
    return tuple(
        LayerCost(
            name=row.name,
            type=row.type,
            output_shape=tuple(row.output_shape),
            params=row.params,
            macs=row.macs,
            peak_activation_bytes_fp32=peak,
            peak_activation_bytes_int8=None if peak is None else peak // 4,
        )
        for row, peak in zip(table.rows, peaks, strict=True)
    )


def _check_quantized_parity(
    int8_model: nn.Module, images: torch.Tensor, onnx_int8: np.ndarray, parity: dict[str, float]
) -> None:
    """Record, and require, that onnxruntime computes what the converted int8 graph does.

    The two round the same int8 values with different kernels, so logits may differ by a
    step or two of the output scale, which can flip a near tie; more than 1 % of the
    predictions differing (at least one is always allowed:
    :func:`~tinyconv.export.qat.mismatches_allowed`) means the export changed the model.
    """
    with torch.inference_mode():
        torch_int8 = torch.cat(
            [int8_model(images[i : i + 1000]) for i in range(0, len(images), 1000)]
        )
    same = torch_int8.argmax(1).numpy() == onnx_int8.argmax(1)
    agreement, differing = float(same.mean()), int((~same).sum())
    parity["onnx_int8_vs_quantized_pytorch_max_abs_logit"] = float(
        np.abs(torch_int8.numpy() - onnx_int8).max()
    )
    parity["onnx_int8_vs_quantized_pytorch_argmax_agreement"] = agreement
    if differing > mismatches_allowed(len(same)):
        raise ExportError(
            f"the int8 ONNX file differs from the quantization-aware PyTorch model on "
            f"{differing} of {len(same)} test images (at most "
            f"{mismatches_allowed(len(same))} allowed); the ONNX export changed the model, "
            "so no file was written"
        )


@dataclass(frozen=True, eq=False)
class OnnxTarget:
    """ONNX files verified in onnxruntime: fp32, and int8 with ``int8``.

    Writes ``<stem>.onnx``, ``<stem>.int8.onnx`` (with ``int8``) and
    ``<stem>.export.json`` (the :class:`~tinyconv.export.ExportReport`).

    Args:
        int8: Also write and evaluate the int8 model.
        calibration_images: How many training images calibrate int8 (the first N of the
            training split), or the images themselves, float ``[N, C, H, W]`` normalised
            as in training. Never test images. Unused with ``qat_epochs``.
        latency_runs: Timed batch-1 runs per runtime.
        qat_epochs: With ``int8``: make the int8 model by quantization-aware fine-tuning
            for this many epochs (:mod:`tinyconv.export.qat`) instead of post-training
            calibration
            (:func:`~tinyconv.export.qat.fine_tune_quantization_aware_on_dataset`: the training
            images less a validation split, scored after every epoch, augmented as the
            recipe the model file records). ``0``: post-training int8. Like the
            rest of an export it is all or nothing: an interrupted export starts over
            (no checkpoint; the fine-tuning is meant to be a few epochs).
        qat_lr: Its constant SGD learning rate.
        qat_train_images: Fine-tune on the first N training images (after the split) only.
        max_int8_drop_points: Refuse an int8 file whose onnxruntime accuracy is more than
            this many points below PyTorch's fp32 accuracy, more than one image below and
            more than the noise (:func:`~tinyconv.export.int8_drop.int8_drop`, the rule of
            the .tflite target too); ``None``: record only.

    Example:
        >>> from tinyconv.export import OnnxTarget, export_as
        >>> export_as("mnist_v5", "deploy", OnnxTarget(int8=True))  # doctest: +SKIP
    """

    times_latency: ClassVar[bool] = True  # the report times batch-1 inference

    int8: bool = True
    calibration_images: int | torch.Tensor = 1000
    latency_runs: int = 300
    qat_epochs: int = 0
    qat_lr: float = 1e-4
    qat_train_images: int | None = None
    max_int8_drop_points: float | None = MAX_INT8_DROP_POINTS

    def check(self) -> None:
        """Refuse settings this target cannot use, before any export work.

        Raises:
            ExportError: For a count below 1, ``qat_epochs`` without ``int8`` or not a
                whole number >= 0, a bad QAT setting or drop limit.
            MissingExtraError: If the ``[export]`` extra is not installed (torchao too, for
                QAT).
        """
        check_drop_limit(self.max_int8_drop_points)
        count = self.calibration_images
        calibrates = self.int8 and not self.qat_epochs  # QAT's observers set the ranges
        if calibrates and not isinstance(count, torch.Tensor) and count < 1:
            raise CalibrationDataError(f"calibration_images must be >= 1, got {count}")
        if self.latency_runs < 1:
            raise ExportError(f"latency_runs must be >= 1, got {self.latency_runs}")
        epochs = self.qat_epochs
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ExportError(f"qat_epochs must be an integer >= 0, got {epochs!r}")
        if epochs and not self.int8:
            raise ExportError(
                "quantization-aware fine-tuning makes the int8 model: pass int8=True (--int8) "
                "with qat_epochs (--qat-epochs)"
            )
        if epochs:
            check_settings(epochs, self.qat_lr, self.qat_train_images)
        for module in ("onnx", "onnxscript", "onnxruntime"):
            require(module, "export")
        if epochs:
            require_torchao()

    def _calibration(self, job: ExportJob) -> tuple[torch.Tensor, str]:
        """The images that calibrate post-training int8, and how the report names them."""
        if not self.int8:
            return torch.empty(0), "none (no int8)"
        if isinstance(self.calibration_images, torch.Tensor):
            images = check_calibration_images(self.calibration_images, job.model.input_shape)
            return images, "given images"
        images = job.training_images(int(self.calibration_images))
        return images, f"first {len(images)} {job.dataset} training images"

    def write(self, job: ExportJob, staged: Path) -> ExportReport:
        """Export, verify and score ``job``'s model; write the files into ``staged``.

        Args:
            job: The resolved model (:func:`~tinyconv.export.job.prepare_export`).
            staged: The folder to write into.

        Returns:
            The report (also written as ``<stem>.export.json``).

        Raises:
            CalibrationDataError: For calibration images that do not fit the model.
            VerificationError: For an int8 file over the accuracy-drop limit.
            ExportError: If the int8 ONNX file computes another model than QAT made.
        """
        model, folded, x_test, reference = job.model, job.folded, job.images, job.reference
        calibration, calibration_source = (
            (torch.empty(0), "") if self.qat_epochs else self._calibration(job)
        )
        calibration_count = len(calibration)
        with torch.inference_mode():
            folded_logits = folded(x_test).numpy()
        files = {"onnx_fp32": job.file(".onnx")}
        export_onnx(folded, staged / files["onnx_fp32"])
        session = onnx_session(staged / files["onnx_fp32"])
        fp32 = onnx_logits(session, x_test)
        image = x_test[:1].clone()
        latency = [torch_latency(model, image, runs=self.latency_runs)]
        latency.append(onnx_latency(session, image, label="fp32", runs=self.latency_runs))
        parity = {
            "folded_vs_pytorch_max_abs_logit": float(np.abs(folded_logits - reference).max()),
            "onnx_fp32_vs_pytorch_max_abs_logit": float(np.abs(fp32 - reference).max()),
            "onnx_fp32_argmax_agreement": argmax_agreement(fp32, reference),
        }
        accuracy = {
            "test_images": len(job.labels),
            "pytorch": top1_accuracy(reference, job.test.labels),
            "onnx_fp32": top1_accuracy(fp32, job.test.labels),
            "onnx_int8": None,
        }
        aware = None
        if self.int8:
            files["onnx_int8"] = job.file(".int8.onnx")
            if self.qat_epochs:
                aware = fine_tune_quantization_aware_on_dataset(
                    model, folded, job.dataset, data_root=job.data_root,
                    epochs=self.qat_epochs, lr=self.qat_lr,
                    train_images=self.qat_train_images,
                )  # fmt: skip
                int8_model = aware.model.converted()
                export_onnx(int8_model, staged / files["onnx_int8"], input_shape=model.input_shape)
                calibration_count = aware.train_images
                calibration_source = (
                    f"quantization-aware fine-tuning: {aware.epochs} epoch(s) on "
                    f"{aware.train_images:,} {job.dataset} training images"
                )
            else:
                quantize_int8(staged / files["onnx_fp32"], staged / files["onnx_int8"], calibration)
            session8 = onnx_session(staged / files["onnx_int8"])
            quantized = onnx_logits(session8, x_test)
            latency.append(onnx_latency(session8, image, label="int8", runs=self.latency_runs))
            parity["onnx_int8_vs_pytorch_max_abs_logit"] = float(
                np.abs(quantized - reference).max()
            )
            parity["onnx_int8_argmax_agreement"] = argmax_agreement(quantized, reference)
            if self.qat_epochs:
                _check_quantized_parity(int8_model, x_test, quantized, parity)
            accuracy["onnx_int8"] = top1_accuracy(quantized, job.test.labels)
            accuracy["int8_minus_fp32_points"] = 100 * (accuracy["onnx_int8"] - accuracy["pytorch"])
            drop = int8_drop(reference, quantized, job.labels.numpy(), self.max_int8_drop_points)
            accuracy["int8_drop"] = drop.to_dict()
            if drop.refused:
                fix = (
                    "fine-tune longer (--qat-epochs)"
                    if self.qat_epochs
                    else "calibrate on more images"
                )
                raise VerificationError(
                    f"the int8 ONNX file scores {drop.describe()} below PyTorch fp32, over "
                    f"the limit of {self.max_int8_drop_points:.2f} points and the noise; "
                    f"{fix} or allow more (--max-int8-drop POINTS); no file was written"
                )
        sizes = {key: (staged / file).stat().st_size for key, file in files.items()}
        table = summary(folded)
        peak = table.peak_activation_bytes
        report = ExportReport(
            model=job.source,
            dataset=job.dataset,
            params=count_parameters(folded),
            params_original=count_parameters(model),
            macs=table.total_macs,
            weight_bytes_fp32=4 * count_parameters(folded),
            weight_bytes_int8=int8_weight_bytes(folded),
            onnx_bytes_fp32=sizes["onnx_fp32"],
            onnx_bytes_int8=sizes.get("onnx_int8"),
            peak_activation_bytes_fp32=peak,
            peak_activation_bytes_int8=None if peak is None else peak // 4,
            layers=_layers(folded),
            latency=tuple(item.to_dict() for item in latency),
            accuracy=accuracy,
            parity=parity,
            calibration=(
                {"images": calibration_count, "source": calibration_source} if self.int8 else {}
            ),
            fold=job.fold.to_dict(),
            files={**files, "report": job.file(".export.json")},
            quantization_aware=None if aware is None else aware.to_dict(),
            environment={
                **environment(("torch", "onnx", "onnxruntime", "torchao")),
                "cpu_count": os.cpu_count(),
                "busy_machine": job.busy_machine,
            },
        )
        text = json.dumps(report.to_dict(), indent=2) + "\n"
        (staged / job.file(".export.json")).write_text(text)
        return report


def export_model(
    model_or_path: nn.Module | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    int8: bool = True,
    calibration_images: int | torch.Tensor = 1000,
    data_root: str | os.PathLike[str] | None = None,
    test_images: int | None = None,
    latency_runs: int = 300,
    name: str | None = None,
    dataset: str | None = None,
    overwrite: bool = False,
    qat_epochs: int = 0,
    qat_lr: float = 1e-4,
    qat_train_images: int | None = None,
    max_int8_drop_points: float | None = MAX_INT8_DROP_POINTS,
) -> ExportReport:
    """Export a trained model to ONNX (and int8), verify it, and report its device costs.

    :func:`~tinyconv.export.export_as` with an :class:`OnnxTarget` of these settings:
    writes ``<name>.onnx``, ``<name>.int8.onnx`` (with ``int8``) and
    ``<name>.export.json`` into ``out_dir``, all or nothing: the folder is built aside and
    moved into place whole. A folder that already holds files is refused unless
    ``overwrite``, which replaces it whole (only if it holds nothing but export files).

    Args:
        model_or_path: A trained TinyNet in eval mode, a model file (``tinyconv.save``)
            or the name of a model tinyconv ships.
        out_dir: Output folder (created; must be new or empty unless ``overwrite``).
        int8: As :class:`OnnxTarget`.
        calibration_images: As :class:`OnnxTarget`.
        data_root: Where the dataset lives (default ``$TINYCONV_DATA``).
        test_images: Score on the first N test images (``None``: all of them).
        latency_runs: As :class:`OnnxTarget`.
        name: Base name of the files (default: the model file's name, or ``model``).
        dataset: The registered dataset to calibrate and score on (default: the one the
            model records; a model that records none needs it).
        overwrite: Replace ``out_dir`` whole if it holds an earlier export.
        qat_epochs: As :class:`OnnxTarget`.
        qat_lr: As :class:`OnnxTarget`.
        qat_train_images: As :class:`OnnxTarget`.
        max_int8_drop_points: As :class:`OnnxTarget`.

    Returns:
        The report (also saved as JSON).

    Raises:
        ModelFileError: For a missing, corrupt or non-tinyconv model file.
        DatasetRegistryError: If the model records no dataset and none is given, or the
            dataset is not registered.
        UntrainedModelError: For a model in training mode or never trained.
        CalibrationDataError: For calibration images that do not fit the model.
        MissingExtraError: If the ``[export]`` extra is not installed.
        OutputExistsError: If ``out_dir`` holds files and ``overwrite`` is false.
        OutputPathError: If ``out_dir`` is a file, holds other files, or is read-only.
        ExportError: For other input the export cannot handle.
    """
    target = OnnxTarget(
        int8=int8, calibration_images=calibration_images, latency_runs=latency_runs,
        qat_epochs=qat_epochs, qat_lr=qat_lr, qat_train_images=qat_train_images,
        max_int8_drop_points=max_int8_drop_points,
    )  # fmt: skip
    return export_as(
        model_or_path, out_dir, target, name=name, dataset=dataset, data_root=data_root,
        test_images=test_images, overwrite=overwrite,
    )  # fmt: skip
