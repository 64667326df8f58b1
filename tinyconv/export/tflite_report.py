"""``TfliteReport``: what a microcontroller pays for a .tflite export, and how it was verified.

The report of :func:`~tinyconv.export.export_tflite`: file bytes, operators (and which
stayed float), TFLite Micro's real arena beside tinyconv's own peak-activation estimate,
the int8 input and output quantization, and the accuracy and parity of PyTorch, LiteRT
and TFLite Micro. ``str()`` prints it; :meth:`TfliteReport.to_dict` is the JSON that
``tinyconv export --format tflite`` saves; :func:`tflite_rst` renders saved reports as
the table of the documentation page "Deploy to a device".
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tinyconv.export.onnx_report import load_report
from tinyconv.formatting import column_table, list_table, percent
from tinyconv.report_files import read_report

__all__ = [
    "TFLITE_REPORT_FORMAT",
    "TfliteReport",
    "load_tflite_report",
    "tflite_figures_rst",
    "tflite_rst",
]

TFLITE_REPORT_FORMAT = "tinyconv.tflite_report"
"""The ``format`` tag of a .tflite export report JSON file (version 1)."""


@dataclass(frozen=True)
class TfliteReport:
    """Bytes, arena, accuracy and parity of one model exported to .tflite.

    Args:
        model: Where the model came from (a path, or the class name).
        dataset: Dataset the accuracy is measured on.
        files: File names written, by kind (relative to the output folder).
        file_bytes: Size of each .tflite file (``fp32``, ``int8``).
        ops: Operators of each file, as ``NAME(input types -> output types)``.
        float_ops: Operators of the int8 file that compute in float (empty: fully int8).
        kept_batchnorms: BatchNorms that could not fold; each runs as an exact 1x1
            depthwise convolution (int8 in the int8 file).
        fold: The BatchNorm folding report as a dict.
        arena: TFLite Micro's arena per file (:class:`~tinyconv.export.MicroArena` dicts).
        estimate: tinyconv's peak-activation estimate of the folded model (bytes, fp32 and
            int8) and the ratio of TFLite Micro's activation bytes to it.
        quantization: The int8 file's input and output type, shape, scale and zero point.
        accuracy: Test accuracy of PyTorch, LiteRT and TFLite Micro and the image counts.
        parity: Logit differences and argmax agreement between runtimes.
        calibration: Number and source of the int8 calibration images.
        environment: Library versions and the machine.
        normalization: The per-channel ``mean`` and ``std`` the model's input takes
            (empty in reports written before it was recorded).
    """

    model: str
    dataset: str
    files: dict[str, str]
    file_bytes: dict[str, int]
    ops: dict[str, list[str]]
    float_ops: list[str]
    kept_batchnorms: list[str]
    fold: dict[str, Any]
    arena: dict[str, dict[str, Any]]
    estimate: dict[str, Any]
    quantization: dict[str, Any]
    accuracy: dict[str, Any]
    parity: dict[str, Any]
    calibration: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    normalization: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data with a ``format`` tag and version."""
        return {"format": TFLITE_REPORT_FORMAT, "version": 1, **asdict(self)}

    def __str__(self) -> str:
        """Render the figures, one ``label: value`` line each."""
        lines = [f"Model: {self.model} ({self.dataset})"]
        lines += [f"{label}: {value}" for label, value in _summary_items(self.to_dict())]
        if self.ops.get("int8"):
            lines.append(f"int8 operators: {', '.join(self.ops['int8'])}")
        return "\n".join(lines)


def _arena(arena: dict[str, Any] | None) -> str:
    if not arena:
        return "-"
    return (
        f"{arena['total_bytes']:,} B ({arena['activation_bytes']:,} activations + "
        f"{arena['runtime_bytes']:,} runtime)"
    )


def _summary_items(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's figures as (label, value) pairs, for the printout and the docs."""
    sizes, arena, accuracy = data["file_bytes"], data["arena"], data["accuracy"]
    estimate, parity = data["estimate"], data["parity"]
    int8 = "int8" in sizes
    items = [(".tflite bytes fp32", f"{sizes['fp32']:,}")]
    items.append((".tflite bytes int8", f"{sizes['int8']:,}" if int8 else "-"))
    items.append(("TFLite Micro arena fp32", _arena(arena.get("fp32"))))
    items.append(("TFLite Micro arena int8", _arena(arena.get("int8"))))
    ratio = estimate.get("int8_activation_ratio")
    items.append(
        (
            "tinyconv peak activation estimate int8",
            f"{estimate['peak_activation_bytes_int8']:,} B"
            + (f" (TFLite Micro activations / estimate: {ratio:.3f})" if ratio else ""),
        )
    )
    m4 = estimate.get("cortex_m4")
    if m4:
        items.append(
            (
                "Cortex-M4 estimate (tinyconv mcu measures)",
                f"model flash {m4['flash_bytes']:,} B, arena {m4['arena_bytes']:,} B, "
                f"{m4['instructions']:,} instructions per inference",
            )
        )
    items.append(("Test images (LiteRT)", f"{accuracy['test_images']:,}"))
    items.append(("Test accuracy PyTorch fp32", percent(accuracy["pytorch"])))
    items.append(("Test accuracy LiteRT fp32", percent(accuracy["litert_fp32"])))
    items.append(("Test accuracy LiteRT int8", percent(accuracy.get("litert_int8"))))
    points = accuracy.get("int8_minus_fp32_points")
    if points is not None:
        items.append(("int8 minus PyTorch fp32", f"{points:+.2f} points"))
    items.append(("Test images (TFLite Micro)", f"{accuracy['micro_images']:,}"))
    items.append(("Test accuracy TFLite Micro fp32", percent(accuracy.get("micro_fp32"))))
    items.append(("Test accuracy TFLite Micro int8", percent(accuracy.get("micro_int8"))))
    if "micro_vs_litert_reference_max_steps_int8" in parity:
        items.append(
            (
                "TFLite Micro vs LiteRT int8 logits",
                f"reference kernels: max {parity['micro_vs_litert_reference_max_steps_int8']} "
                f"step(s); optimised kernels: max {parity['micro_vs_litert_max_steps_int8']} "
                f"step(s), same predictions "
                f"{percent(parity['micro_vs_litert_argmax_agreement_int8'])}",
            )
        )
    items.append(
        (
            "LiteRT fp32 vs PyTorch",
            f"argmax {percent(parity['litert_fp32_argmax_agreement'])}, max abs dlogit "
            f"{parity['litert_fp32_vs_pytorch_max_abs_logit']:.3g}",
        )
    )
    fold = data["fold"]
    kept = ", ".join(data["kept_batchnorms"]) or "none"
    items.append(
        (
            "BatchNorm",
            f"{fold['folded']} folded, {fold['kept']} kept (as 1x1 depthwise convolutions: {kept})",
        )
    )
    float_ops = ", ".join(data["float_ops"]) or "none"
    items.append(("Float ops in the int8 file", float_ops if int8 else "-"))
    return items


def load_tflite_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a report JSON file written by ``tinyconv export --format tflite``.

    Args:
        path: The ``.json`` file.

    Returns:
        The report as a dict.

    Raises:
        ReportFileError: If the file cannot be read or is not a .tflite export report (a
            ``ValueError``).
    """
    return read_report(path, TFLITE_REPORT_FORMAT, ".tflite export report")


def _accuracy_cell(value: float | None, images: int | None) -> str:
    return "-" if value is None else f"{percent(value)} ({images:,})"


def _rows(stem: str, data: dict[str, Any], onnx: dict[str, Any] | None) -> list[list[str]]:
    """The comparison rows of one model: ONNX (if its report exists) and .tflite."""
    rows = []
    if onnx is not None:
        images = onnx["accuracy"]["test_images"]
        rows.append(
            [stem, "ONNX fp32", "onnxruntime", f"{onnx['onnx_bytes_fp32']:,}", "-",
             _accuracy_cell(onnx["accuracy"]["onnx_fp32"], images)]
        )  # fmt: skip
        if onnx.get("onnx_bytes_int8") is not None:
            rows.append(
                [stem, "ONNX int8", "onnxruntime", f"{onnx['onnx_bytes_int8']:,}", "-",
                 _accuracy_cell(onnx["accuracy"].get("onnx_int8"), images)]
            )  # fmt: skip
    accuracy, sizes, arena = data["accuracy"], data["file_bytes"], data["arena"]
    images, micro = accuracy["test_images"], accuracy["micro_images"]
    for kind in ("fp32", "int8"):
        if kind not in sizes:
            continue
        arena_cell = f"{arena[kind]['total_bytes']:,}" if kind in arena else "-"
        rows.append(
            [stem, f".tflite {kind}", "LiteRT", f"{sizes[kind]:,}", "-",
             _accuracy_cell(accuracy.get(f"litert_{kind}"), images)]
        )  # fmt: skip
        rows.append(
            [stem, f".tflite {kind}", "TFLite Micro", f"{sizes[kind]:,}", arena_cell,
             _accuracy_cell(accuracy.get(f"micro_{kind}"), micro)]
        )  # fmt: skip
    return rows


def tflite_rst(
    results_dir: str | os.PathLike[str], onnx_dir: str | os.PathLike[str] | None = None
) -> str:
    """Render saved .tflite reports, beside their ONNX reports, as one rst list-table.

    One row per model, format and runtime: file bytes, TFLite Micro's arena, and test
    accuracy with the number of images it was measured on. A model's ONNX report is
    the file of the same name in ``onnx_dir`` (``results/deploy/mnist_v5_seed1.json``
    for ``results/deploy/tflite/mnist_v5_seed1.json``), when there is one.

    Args:
        results_dir: Folder of .tflite report JSON files (``results/deploy/tflite``).
        onnx_dir: Folder of ONNX export reports, or ``None``.

    Returns:
        reStructuredText, ready to ``.. include::``.

    Example:
        >>> tflite_rst("/nonexistent").split(":")[0]
        'No .tflite report is recorded yet'
    """
    paths = sorted(Path(results_dir).glob("*.json"))
    if not paths:
        return (
            "No .tflite report is recorded yet: the numbers are not yet measured (no "
            f"``*.json`` under ``{Path(results_dir).name}/``).\n"
        )
    head = ["Model", "File", "Runtime", "File bytes", "Arena bytes", "Accuracy (images)"]
    rows = []
    for path in paths:
        twin = Path(onnx_dir) / path.name if onnx_dir is not None else None
        onnx = load_report(twin) if twin and twin.is_file() else None
        rows += _rows(path.stem, load_tflite_report(path), onnx)
    return list_table(head, rows)


def tflite_figures_rst(results_dir: str | os.PathLike[str]) -> str:
    """Render every figure of the .tflite reports in ``results_dir``, one column per report.

    Args:
        results_dir: Folder of .tflite report JSON files (``results/deploy/tflite``).

    Returns:
        reStructuredText, ready to ``.. include::``.

    Example:
        >>> tflite_figures_rst("/nonexistent").split(":")[0]
        'No .tflite report is recorded yet'
    """
    paths = sorted(Path(results_dir).glob("*.json"))
    if not paths:
        return tflite_rst(results_dir)
    columns = [dict(_summary_items(load_tflite_report(path))) for path in paths]
    return column_table([path.stem for path in paths], columns)
