"""``export_model``: from a trained model (or model file) to ONNX files and a device report.

The steps: check the model is a trained TinyNet in eval mode; fold its BatchNorms
(:func:`~tinyconv.export.fold_batchnorm`); export the folded copy to ONNX and verify it
with onnxruntime on the test images; optionally quantize to int8, calibrated on training
images; measure batch-1 latency; collect the device costs. The output folder is one set
of files built aside and moved into place whole (:func:`tinyconv.outputs.output_folder`)
only after every step succeeded: an error or Ctrl-C leaves no output behind, and a folder
never mixes files of two exports (one that holds files is refused unless ``overwrite``).
"""

from __future__ import annotations

import json
import os
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tinyconv.data import ImageDataset, load_dataset, model_dataset
from tinyconv.data.scoring import Predictions, check_model_fits, model_inputs
from tinyconv.device_costs import int8_weight_bytes
from tinyconv.errors import ModelFileError
from tinyconv.export.device_report import ExportReport, LayerCost
from tinyconv.export.errors import (
    CalibrationDataError,
    ExportError,
    UntrainedModelError,
    VerificationError,
)
from tinyconv.export.int8_drop import MAX_INT8_DROP_POINTS, check_drop_limit, int8_drop
from tinyconv.export.latency import onnx_latency, torch_latency
from tinyconv.export.onnx import export_onnx, onnx_logits, onnx_session
from tinyconv.export.qat import (
    check_settings,
    mismatches_allowed,
    quantization_aware_on_dataset,
    require_torchao,
)
from tinyconv.export.quantize import check_calibration_images, quantize_int8
from tinyconv.fold import fold_batchnorm
from tinyconv.model import TinyNet
from tinyconv.model_file import load
from tinyconv.outputs import output_folder
from tinyconv.parameters import count_parameters
from tinyconv.provenance import environment
from tinyconv.summary import summary
from tinyconv.workers import busy_machine_warning

__all__ = [
    "EXPORT_SUFFIXES",
    "check_trained",
    "export_folder",
    "export_model",
]

EXPORT_SUFFIXES = (".onnx", ".export.json", ".tflite", ".tflite.json", "_model.h", "_model.c")
"""Endings of the files ``tinyconv export`` writes (both formats); ``--overwrite`` replaces
a folder only if every file in it ends so."""


def export_folder(
    out_dir: str | os.PathLike[str], *, overwrite: bool = False
) -> AbstractContextManager[Path]:
    """Open an export's output folder: checked now, moved into place whole at the end.

    Args:
        out_dir: The output folder (``--out``).
        overwrite: Replace a folder that holds an earlier export (and nothing else).

    Returns:
        A context manager that yields the staging folder to write into.

    Raises:
        OutputExistsError: If ``out_dir`` holds files and ``overwrite`` is false.
        OutputPathError: If ``out_dir`` is a file, holds other files, or is read-only.
    """
    return output_folder(
        out_dir,
        overwrite=overwrite,
        owns=lambda name: name.endswith(EXPORT_SUFFIXES),
        command="tinyconv export",
    )


def check_trained(model: nn.Module) -> None:
    """Raise :class:`UntrainedModelError` for a model in training mode or never trained.

    Args:
        model: The model to export.

    Raises:
        UntrainedModelError: If any module is in training mode, or a BatchNorm has never
            seen a batch (``num_batches_tracked == 0``).
    """
    training = [name or "the model" for name, m in model.named_modules() if m.training]
    if training:
        raise UntrainedModelError(
            f"{training[0]} is in training mode; export a trained model in eval mode: call "
            "model.eval() first, or export a model file written by tinyconv.save"
        )
    for name, module in model.named_modules():
        tracked = getattr(module, "num_batches_tracked", None)
        is_norm = isinstance(module, nn.modules.batchnorm._BatchNorm)
        if is_norm and tracked is not None and int(tracked) == 0:
            raise UntrainedModelError(
                f"BatchNorm {name} has never seen a batch (num_batches_tracked=0): the model "
                "is untrained; train it first (e.g. python examples/mnist_v5.py) and export "
                "the model file it saves"
            )


def _resolve(model_or_path: nn.Module | str | os.PathLike[str]) -> tuple[TinyNet, str, str]:
    if isinstance(model_or_path, nn.Module):
        model = getattr(model_or_path, "_orig_mod", model_or_path)
        if not isinstance(model, TinyNet):
            raise ExportError(
                f"export_model needs a TinyNet (made by tinyconv.build or read by "
                f"tinyconv.load), got {type(model).__name__}"
            )
        return model, type(model).__name__, "model"
    path = Path(model_or_path)
    if not path.is_file():
        raise ModelFileError(
            f"no model file at {str(path)!r}; check the path (a study saves "
            "<out>/<recipe>/seed<N>.model.pt; tinyconv.save writes one from a model)"
        )
    return load(path), str(path), path.name.removesuffix(".pt").removesuffix(".model")


def _normalised(
    data: ImageDataset, model: TinyNet, count: int | None, error: type[ExportError]
) -> torch.Tensor:
    shape = model.input_shape
    if data.image_shape != shape:
        got = "x".join(map(str, data.image_shape))
        raise error(
            f"the {data.name} images are {got} but the model expects "
            f"{'x'.join(map(str, shape))}; use the dataset the model was trained on"
        )
    return model_inputs(model, data, count)


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


def _accuracy(logits: np.ndarray, data: ImageDataset) -> float:
    return Predictions.from_logits(torch.from_numpy(logits), data).accuracy


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

    Writes ``<name>.onnx``, ``<name>.int8.onnx`` (with ``int8``) and
    ``<name>.export.json`` into ``out_dir``, all or nothing: the folder is built aside and
    moved into place whole. A folder that already holds files is refused unless
    ``overwrite``, which replaces it whole (only if it holds nothing but export files).

    Args:
        model_or_path: A trained TinyNet in eval mode, or a model file (``tinyconv.save``).
        out_dir: Output folder (created; must be new or empty unless ``overwrite``).
        int8: Also write and evaluate the int8 model.
        calibration_images: How many training images calibrate int8 (the first N of the
            training split), or the images themselves, float ``[N, C, H, W]`` normalised
            as in training. Never test images. Unused with ``qat_epochs``.
        data_root: Where the dataset lives (default ``$TINYCONV_DATA``).
        test_images: Score on the first N test images (``None``: all of them).
        latency_runs: Timed batch-1 runs per runtime.
        name: Base name of the files (default: the model file's name, or ``model``).
        dataset: The registered dataset to calibrate and score on (default: the one the
            model records; a model that records none needs it).
        overwrite: Replace ``out_dir`` whole if it holds an earlier export.
        qat_epochs: With ``int8``: make the int8 model by quantization-aware fine-tuning
            for this many epochs (:mod:`tinyconv.export.qat`) instead of post-training
            calibration
            (:func:`~tinyconv.export.qat.quantization_aware_on_dataset`: the training
            images less a validation split, scored after every epoch, augmented as the
            recipe the model file records). ``0``: post-training int8. Like the
            rest of an export it is all or nothing: an interrupted export starts over
            (no checkpoint; the fine-tuning is meant to be a few epochs).
        qat_lr: Its constant SGD learning rate.
        qat_train_images: Fine-tune on the first N training images (after the split) only.
        max_int8_drop_points: Refuse an int8 file whose onnxruntime accuracy is more than
            this many points below PyTorch's fp32 accuracy, more than one image below and
            more than the noise (:func:`~tinyconv.export.int8_drop.int8_drop`, the rule of
            the .tflite export too); ``None``: record only.

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
    model, source, default_name = _resolve(model_or_path)
    check_trained(model)
    check_drop_limit(max_int8_drop_points)
    with export_folder(out_dir, overwrite=overwrite) as staged:
        return _export(
            model, source, name or default_name, staged,
            int8=int8, calibration_images=calibration_images, data_root=data_root,
            test_images=test_images, latency_runs=latency_runs, dataset=dataset,
            qat_epochs=qat_epochs, qat_lr=qat_lr, qat_train_images=qat_train_images,
            max_int8_drop_points=max_int8_drop_points,
        )  # fmt: skip


def _export(
    model: TinyNet,
    source: str,
    stem: str,
    staged: Path,
    *,
    int8: bool,
    calibration_images: int | torch.Tensor,
    data_root: str | os.PathLike[str] | None,
    test_images: int | None,
    latency_runs: int,
    dataset: str | None,
    qat_epochs: int,
    qat_lr: float,
    qat_train_images: int | None,
    max_int8_drop_points: float | None,
) -> ExportReport:
    """Everything :func:`export_model` does once its output folder is open."""
    # read before the work, whose own load would count against it
    busy = busy_machine_warning(torch.get_num_threads()).removeprefix("warning: ")
    dataset = model_dataset(model, dataset, label=source).name
    for label, value in (("test_images", test_images), ("latency_runs", latency_runs)):
        if value is not None and value < 1:
            raise ExportError(f"{label} must be >= 1, got {value}")
    if isinstance(qat_epochs, bool) or not isinstance(qat_epochs, int) or qat_epochs < 0:
        raise ExportError(f"qat_epochs must be an integer >= 0, got {qat_epochs!r}")
    if qat_epochs and not int8:
        raise ExportError(
            "quantization-aware fine-tuning makes the int8 model: pass int8=True (--int8) "
            "with qat_epochs (--qat-epochs)"
        )
    if qat_epochs:  # before minutes of export work, not after
        check_settings(qat_epochs, qat_lr, qat_train_images)
        require_torchao()
    calibration, calibration_source = torch.empty(0), "none (no int8)"
    if qat_epochs:
        pass  # the fine-tuning's observers calibrate, on training images
    elif int8 and isinstance(calibration_images, torch.Tensor):
        calibration = check_calibration_images(calibration_images, model.input_shape)
        calibration_source = "given images"
    elif int8:
        count = int(calibration_images)  # type: ignore[arg-type]
        if count < 1:
            raise CalibrationDataError(f"calibration_images must be >= 1, got {count}")
        train = load_dataset(dataset, data_root, train=True)  # calibration: training images
        calibration = _normalised(train, model, count, CalibrationDataError)
        calibration_source = f"first {len(calibration)} {dataset} training images"
    calibration_count = len(calibration)
    test = load_dataset(dataset, data_root, train=False)
    x_test, y_test = _normalised(test, model, test_images, ExportError), test.labels[:test_images]
    check_model_fits(model, test)  # a model of another dataset with the same image shape
    folded, fold_report = fold_batchnorm(model)
    with torch.inference_mode():
        reference = model(x_test).numpy()
        folded_logits = folded(x_test).numpy()
    files = {"onnx_fp32": f"{stem}.onnx"}
    export_onnx(folded, staged / files["onnx_fp32"])
    session = onnx_session(staged / files["onnx_fp32"])
    fp32 = onnx_logits(session, x_test)
    image = x_test[:1].clone()
    latency = [torch_latency(model, image, runs=latency_runs)]
    latency.append(onnx_latency(session, image, label="fp32", runs=latency_runs))
    parity = {
        "folded_vs_pytorch_max_abs_logit": float(np.abs(folded_logits - reference).max()),
        "onnx_fp32_vs_pytorch_max_abs_logit": float(np.abs(fp32 - reference).max()),
        "onnx_fp32_argmax_agreement": float((fp32.argmax(1) == reference.argmax(1)).mean()),
    }
    accuracy = {
        "test_images": len(y_test),
        "pytorch": _accuracy(reference, test),
        "onnx_fp32": _accuracy(fp32, test),
        "onnx_int8": None,
    }
    aware = None
    if int8:
        files["onnx_int8"] = f"{stem}.int8.onnx"
        if qat_epochs:
            aware = quantization_aware_on_dataset(
                model, folded, dataset, data_root=data_root, epochs=qat_epochs, lr=qat_lr,
                train_images=qat_train_images,
            )  # fmt: skip
            int8_model = aware.model.converted()
            shape = model.input_shape
            export_onnx(int8_model, staged / files["onnx_int8"], input_shape=shape)
            calibration_count = aware.train_images
            calibration_source = (
                f"quantization-aware fine-tuning: {aware.epochs} epoch(s) on "
                f"{aware.train_images:,} {dataset} training images"
            )
        else:
            quantize_int8(staged / files["onnx_fp32"], staged / files["onnx_int8"], calibration)
        session8 = onnx_session(staged / files["onnx_int8"])
        quantized = onnx_logits(session8, x_test)
        latency.append(onnx_latency(session8, image, label="int8", runs=latency_runs))
        parity["onnx_int8_vs_pytorch_max_abs_logit"] = float(np.abs(quantized - reference).max())
        parity["onnx_int8_argmax_agreement"] = float(
            (quantized.argmax(1) == reference.argmax(1)).mean()
        )
        if qat_epochs:
            _check_quantized_parity(int8_model, x_test, quantized, parity)
        accuracy["onnx_int8"] = _accuracy(quantized, test)
        accuracy["int8_minus_fp32_points"] = 100 * (accuracy["onnx_int8"] - accuracy["pytorch"])
        drop = int8_drop(reference, quantized, test.labels[: len(quantized)].numpy(),
                         max_int8_drop_points)  # fmt: skip
        accuracy["int8_drop"] = drop.to_dict()
        if drop.refused:
            fix = "fine-tune longer (--qat-epochs)" if qat_epochs else "calibrate on more images"
            raise VerificationError(
                f"the int8 ONNX file scores {drop.describe()} below PyTorch fp32, over the "
                f"limit of {max_int8_drop_points:.2f} points and the noise; {fix} or allow "
                "more (--max-int8-drop POINTS); no file was written"
            )
    sizes = {key: (staged / file).stat().st_size for key, file in files.items()}
    table = summary(folded)
    peak = table.peak_activation_bytes

    report = ExportReport(
        model=source,
        dataset=dataset,
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
        calibration={"images": calibration_count, "source": calibration_source} if int8 else {},
        fold=fold_report.to_dict(),
        files={**files, "report": f"{stem}.export.json"},
        quantization_aware=None if aware is None else aware.to_dict(),
        environment={
            **environment(("torch", "onnx", "onnxruntime", "torchao")),
            "cpu_count": os.cpu_count(),
            "busy_machine": busy,
        },
    )
    text = json.dumps(report.to_dict(), indent=2) + "\n"
    (staged / f"{stem}.export.json").write_text(text)
    return report
