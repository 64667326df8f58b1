"""The one export pipeline: resolve the model once, then let a target write its files.

Every export takes the same steps: let the target check its own settings before any work
(:meth:`ExportTarget.check`); read the model (or model file) and check it is trained
(:func:`~tinyconv.export.job.resolve_model`, :func:`~tinyconv.export.job.check_trained`); open
the output folder (:func:`export_folder`: built aside and moved into place whole only after
every step succeeded, so an error or Ctrl-C leaves nothing behind and a folder never mixes
two exports); load the test images, fold the BatchNorms and compute the reference logits
once (:func:`~tinyconv.export.job.prepare_export`); then the target converts, quantizes,
verifies and writes (:meth:`ExportTarget.write`). :func:`export_as` is that sequence.

The targets: :class:`~tinyconv.export.onnx_target.OnnxTarget` (onnxruntime, int8 by
onnxruntime calibration or quantization-aware fine-tuning) and
:class:`~tinyconv.export.tflite_target.TfliteTarget` (LiteRT and TFLite Micro, int8 by
PT2E calibration, C sources for firmware); :func:`~tinyconv.export.export_model` and
:func:`~tinyconv.export.export_tflite` are :func:`export_as` with one of them.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from torch import nn

from tinyconv.export.job import (
    ExportJob,
    check_test_images,
    check_trained,
    prepare_export,
    resolve_model,
)
from tinyconv.outputs import output_folder

__all__ = ["EXPORT_SUFFIXES", "ExportTarget", "export_as", "export_folder"]

EXPORT_SUFFIXES = (".onnx", ".export.json", ".tflite", ".tflite.json", "_model.h", "_model.c")
"""Endings of the files ``tinyconv export`` writes (both formats); ``--overwrite`` replaces
a folder only if every file in it ends so."""


@runtime_checkable
class ExportTarget(Protocol):
    """A format an export writes: its settings, checked before any work, and its writer.

    A target that times the model sets a class attribute ``times_latency = True``: the
    job then records how busy the machine was when the export began.
    """

    def check(self) -> None:
        """Raise for settings the target cannot use, then for a missing extra.

        Called before the model is read, the output folder opened or any data loaded.
        """

    def write(self, job: ExportJob, staged: Path) -> Any:
        """Convert, quantize and verify ``job``'s model; write the files into ``staged``.

        Args:
            job: The resolved model, its test images and reference logits.
            staged: The folder to write into (moved into place only if this returns).

        Returns:
            The target's report (also written into ``staged`` as JSON).
        """


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


def export_as(
    model_or_path: nn.Module | str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    target: ExportTarget,
    *,
    name: str | None = None,
    dataset: str | None = None,
    data_root: str | os.PathLike[str] | None = None,
    test_images: int | None = None,
    overwrite: bool = False,
) -> Any:
    """Export a trained model with ``target``: all the files or none.

    Args:
        model_or_path: A trained TinyNet in eval mode, or a model file (``tinyconv.save``).
        out_dir: Output folder (created; must be new or empty unless ``overwrite``).
        target: What to write (:class:`~tinyconv.export.OnnxTarget`,
            :class:`~tinyconv.export.TfliteTarget`).
        name: Base name of the files (default: the model file's name, or ``model``).
        dataset: The registered dataset to calibrate and score on (default: the one the
            model records; a model that records none needs it).
        data_root: Where the dataset lives (default ``$TINYCONV_DATA``).
        test_images: Verify and score on the first N test images (``None``: all).
        overwrite: Replace ``out_dir`` whole if it holds an earlier export (and nothing
            else).

    Returns:
        The target's report (also saved as JSON in ``out_dir``).

    Raises:
        ModelFileError: For a missing, corrupt or non-tinyconv model file.
        UntrainedModelError: For a model in training mode or never trained.
        OutputExistsError: If ``out_dir`` holds files and ``overwrite`` is false.
        OutputPathError: If ``out_dir`` is a file, holds other files, or is read-only.
        ExportError: For settings or a model the target cannot handle, or a file that
            fails verification (nothing is written then).

    Example:
        >>> from tinyconv.export import TfliteTarget, export_as
        >>> export_as("mnist_v5", "deploy", TfliteTarget(int8=True))  # doctest: +SKIP
    """
    target.check()
    check_test_images(test_images)
    model, source, default_stem = resolve_model(model_or_path)
    check_trained(model)
    with export_folder(out_dir, overwrite=overwrite) as staged:
        job = prepare_export(
            model, source, name or default_stem,
            dataset=dataset, data_root=data_root, test_images=test_images,
            times_latency=getattr(target, "times_latency", False),
        )  # fmt: skip
        return target.write(job, staged)
