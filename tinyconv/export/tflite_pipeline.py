"""``export_tflite``: from a trained model to verified .tflite files, firmware sources and a report.

The steps: check the model is a trained TinyNet in eval mode; fold its BatchNorms
(:func:`~tinyconv.export.fold_batchnorm`); convert the folded copy to an fp32 .tflite
and, with ``int8``, quantize it (PT2E, calibrated on training images) to an int8 .tflite
with int8 input and output; verify each file in LiteRT on the test images and in TFLite
Micro on the first of them; read TFLite Micro's arena; write the deployed file (int8 if
made) as a C source and header. A file that fails verification is refused: the output
folder is built aside and moved into place whole only after every check passed
(:func:`tinyconv.outputs.output_folder`), so an error or Ctrl-C leaves nothing behind, and
a folder that holds files already is refused unless ``overwrite`` (then replaced whole).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tinyconv.data import load_dataset
from tinyconv.data.normalization import Normalization
from tinyconv.data.registry import model_dataset
from tinyconv.data.scoring import check_model_fits
from tinyconv.device_costs import peak_activation_elements
from tinyconv.device_estimate import estimate_device
from tinyconv.errors import ModelGraphError
from tinyconv.export.c_array import firmware_sources
from tinyconv.export.errors import CalibrationDataError, ExportError, VerificationError
from tinyconv.export.int8_drop import MAX_INT8_DROP_POINTS, check_drop_limit, int8_drop
from tinyconv.export.litert import dequantize_output, litert_logits
from tinyconv.export.micro import micro_arena, micro_logits
from tinyconv.export.pipeline import _normalised, _resolve, check_trained, export_folder
from tinyconv.export.tflite import batchnorm_as_depthwise, tflite_bytes
from tinyconv.export.tflite_graph import io_quantization, tflite_ops
from tinyconv.export.tflite_report import TfliteReport
from tinyconv.fold import fold_batchnorm
from tinyconv.model import TinyNet
from tinyconv.provenance import environment

__all__ = ["FP32_LOGIT_TOLERANCE", "export_tflite"]

FP32_LOGIT_TOLERANCE = 1e-3
"""Largest |logit difference| allowed between the fp32 .tflite in LiteRT and PyTorch."""

_PACKAGES = ("torch", "litert-torch", "ai-edge-litert", "tflite-micro", "torchao")


def _accuracy(logits: np.ndarray, labels: torch.Tensor) -> float:
    return float((logits.argmax(1) == labels.numpy()[: len(logits)]).mean())


def _agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float((a.argmax(1) == b.argmax(1)).mean())


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
    parity[f"micro_vs_litert_argmax_agreement_{kind}"] = _agreement(micro, litert)
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
        agreement = _agreement(micro, reference)
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
    name: str | None = None,
    dataset: str | None = None,
    overwrite: bool = False,
) -> TfliteReport:
    """Export a trained model to verified .tflite files, C sources and a report.

    Writes into ``out_dir``: ``<name>.tflite`` (fp32), with ``int8`` also
    ``<name>.int8.tflite``; ``<name>_model.h`` and ``<name>_model.c`` (the deployed file,
    int8 if made, as a C array with its arena and input constants); and
    ``<name>.tflite.json``. All or nothing: the folder is built aside and moved into place
    whole; a folder that holds files already is refused unless ``overwrite``.

    Args:
        model_or_path: A trained TinyNet in eval mode, or a model file (``tinyconv.save``).
        out_dir: Output folder (created; must be new or empty unless ``overwrite``).
        int8: Also write the int8 file (int8 input and output).
        calibration_images: How many training images (the first N) calibrate int8.
        data_root: Where the dataset lives (default ``$TINYCONV_DATA``).
        test_images: Verify in LiteRT on the first N test images (``None``: all).
        micro_images: Verify in TFLite Micro on the first N of those.
        max_int8_drop_points: Refuse an int8 file whose LiteRT accuracy is more than this
            many points below PyTorch's fp32 accuracy, more than one image below and more
            than the noise (:func:`~tinyconv.export.int8_drop.int8_drop`); ``None``:
            record only.
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
    model, source, default_name = _resolve(model_or_path)
    check_trained(model)
    check_drop_limit(max_int8_drop_points)
    with export_folder(out_dir, overwrite=overwrite) as staged:
        return _export_tflite(
            model, source, name or default_name, staged,
            int8=int8, calibration_images=calibration_images, data_root=data_root,
            test_images=test_images, micro_images=micro_images,
            max_int8_drop_points=max_int8_drop_points, dataset=dataset,
        )  # fmt: skip


def _export_tflite(
    model: TinyNet,
    source: str,
    stem: str,
    staged: Path,
    *,
    int8: bool,
    calibration_images: int,
    data_root: str | os.PathLike[str] | None,
    test_images: int | None,
    micro_images: int,
    max_int8_drop_points: float | None,
    dataset: str | None,
) -> TfliteReport:
    """Everything :func:`export_tflite` does once its output folder is open."""
    files = {"tflite_fp32": f"{stem}.tflite"}
    if int8:
        files["tflite_int8"] = f"{stem}.int8.tflite"
    files |= {"header": f"{stem}_model.h", "source": f"{stem}_model.c"}
    files["report"] = f"{stem}.tflite.json"
    for label, value in (("test_images", test_images), ("micro_images", micro_images)):
        if value is not None and value < 1:
            raise ExportError(f"{label} must be >= 1, got {value}")
    if int8 and calibration_images < 1:
        raise CalibrationDataError(f"calibration_images must be >= 1, got {calibration_images}")
    data_name = model_dataset(model, dataset, label=source).name
    test = load_dataset(data_name, data_root, train=False)
    check_model_fits(model, test)
    x_test, y_test = _normalised(test, model, test_images, ExportError), test.labels[:test_images]
    folded, fold_report = fold_batchnorm(model)
    with torch.inference_mode():
        reference = model(x_test).numpy()
    sample = x_test[:micro_images]
    datas = {"fp32": tflite_bytes(folded)}
    calibration = {}
    if int8:
        train = load_dataset(data_name, data_root, train=True)  # never test images
        images = _normalised(train, model, calibration_images, CalibrationDataError)
        datas["int8"] = tflite_bytes(folded, images)
        calibration = {
            "images": len(images),
            "source": f"first {len(images)} {data_name} training images",
        }
    accuracy: dict[str, object] = {
        "test_images": len(x_test),
        "micro_images": len(sample),
        "pytorch": _accuracy(reference, y_test),
    }
    parity: dict[str, object] = {}
    arenas, litert_by_kind = {}, {}
    for kind, data in datas.items():
        litert = litert_by_kind[kind] = litert_logits(data, x_test)
        accuracy[f"litert_{kind}"] = _accuracy(litert, y_test)
        micro = _verify_micro(kind, data, sample, litert[: len(sample)], parity)
        accuracy[f"micro_{kind}"] = _accuracy(micro, y_test)
        arenas[kind] = micro_arena(data).to_dict()
    fp32 = litert_by_kind["fp32"]
    parity["litert_fp32_vs_pytorch_max_abs_logit"] = float(np.abs(fp32 - reference).max())
    parity["litert_fp32_argmax_agreement"] = _agreement(fp32, reference)
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
    kept = list(batchnorm_as_depthwise(folded)[1])  # folded is not used after this
    report = TfliteReport(
        model=source,
        dataset=data_name,
        files=files,
        file_bytes={kind: len(data) for kind, data in datas.items()},
        ops={kind: [str(op) for op in tflite_ops(data)] for kind, data in datas.items()},
        float_ops=[str(op) for op in tflite_ops(deployed) if op.computes_in_float] if int8 else [],
        kept_batchnorms=kept,
        fold=fold_report.to_dict(),
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
