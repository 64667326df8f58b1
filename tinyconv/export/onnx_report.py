"""``ExportReport``: what a device pays for an exported model, as a table and as JSON.

The report of :func:`~tinyconv.export.export_model` holds sizes in bytes, the peak
activation memory at batch 1 (per layer and total), MACs, batch-1 latencies with their
thread counts, and test accuracy and parity of every stage (PyTorch, folded, ONNX fp32,
ONNX int8). ``str()`` prints it; :meth:`ExportReport.to_dict` is the JSON that
``tinyconv export`` saves; :func:`deploy_rst` renders saved reports as the table of the
documentation page "Deploy to a device".
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tinyconv.formatting import column_table, percent
from tinyconv.report_files import read_report

__all__ = ["REPORT_FORMAT", "ExportReport", "LayerCost", "deploy_rst", "load_report"]

REPORT_FORMAT = "tinyconv.export_report"
"""The ``format`` tag of an export report JSON file (version 1)."""


@dataclass(frozen=True)
class LayerCost:
    """One block of the folded model.

    Args:
        name: Block name (``conv1``).
        type: Block class name.
        output_shape: Output of one image.
        params: Parameters of the folded block.
        macs: Multiply-accumulates per image.
        peak_activation_bytes_fp32: Peak activation memory while the block runs, fp32.
        peak_activation_bytes_int8: The same at one byte per element.
    """

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    macs: int
    peak_activation_bytes_fp32: int | None
    peak_activation_bytes_int8: int | None


@dataclass(frozen=True)
class ExportReport:
    """Device costs, latency and accuracy of one exported model.

    Args:
        model: Where the model came from (a path, or the class name).
        dataset: Dataset the accuracy is measured on.
        params: Parameters of the folded model (what the device stores).
        params_original: Parameters of the model as trained.
        macs: Multiply-accumulates per image.
        weight_bytes_fp32: ``4 * params``.
        weight_bytes_int8: Per-channel int8 weight bytes
            (:func:`tinyconv.device_costs.int8_weight_bytes`).
        onnx_bytes_fp32: Size of the fp32 ONNX file.
        onnx_bytes_int8: Size of the int8 ONNX file, or ``None`` without ``int8``.
        peak_activation_bytes_fp32: Peak activation memory at batch 1, fp32.
        peak_activation_bytes_int8: The same at one byte per element.
        layers: Per-block costs.
        latency: Batch-1 medians, one dict per runtime (see :class:`~.latency.Latency`).
        accuracy: Test accuracy per stage and the number of test images.
        parity: Max absolute logit differences and argmax agreement between stages.
        calibration: Number and source of the int8 calibration images.
        fold: The BatchNorm folding report as a dict.
        files: File names written (relative to the output folder).
        environment: Library versions and the machine.
        quantization_aware: With quantization-aware fine-tuning, its record
            (:meth:`~tinyconv.export.qat.QuantizationAwareResult.to_dict`); else ``None``.
    """

    model: str
    dataset: str
    params: int
    params_original: int
    macs: int
    weight_bytes_fp32: int
    weight_bytes_int8: int
    onnx_bytes_fp32: int
    onnx_bytes_int8: int | None
    peak_activation_bytes_fp32: int | None
    peak_activation_bytes_int8: int | None
    layers: tuple[LayerCost, ...]
    latency: tuple[dict[str, Any], ...]
    accuracy: dict[str, Any]
    parity: dict[str, Any]
    calibration: dict[str, Any]
    fold: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    quantization_aware: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data with a ``format`` tag and version."""
        return {"format": REPORT_FORMAT, "version": 1, **asdict(self)}

    def __str__(self) -> str:
        """Render the per-layer table and the totals."""
        head = ("Layer", "Type", "Output", "Params", "MACs", "Peak act fp32", "Peak act int8")
        rows = [
            (
                layer.name,
                layer.type,
                "x".join(map(str, layer.output_shape)),
                f"{layer.params:,}",
                f"{layer.macs:,}",
                _bytes(layer.peak_activation_bytes_fp32),
                _bytes(layer.peak_activation_bytes_int8),
            )
            for layer in self.layers
        ]
        widths = [max(len(c) for c in col) for col in zip(head, *rows, strict=True)]

        def fmt(cells: tuple[str, ...]) -> str:
            return "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )

        rule = "-" * len(fmt(head))
        lines = [f"Model: {self.model}", rule, fmt(head), rule, *map(fmt, rows), rule]
        lines += [f"{key}: {value}" for key, value in _summary_items(self.to_dict())]
        return "\n".join(lines)


def _bytes(value: int | None) -> str:
    return "-" if value is None else f"{value:,} B"


def _summary_items(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's totals as (label, value) pairs, for the table and the docs."""
    accuracy, parity = data["accuracy"], data["parity"]
    items = [
        ("Parameters (folded)", f"{data['params']:,} (as trained: {data['params_original']:,})"),
        ("MACs per image", f"{data['macs']:,}"),
        (
            "Weight bytes fp32 / int8",
            f"{data['weight_bytes_fp32']:,} / {data['weight_bytes_int8']:,}",
        ),
        (
            "ONNX file bytes fp32 / int8",
            f"{data['onnx_bytes_fp32']:,} / {_opt(data['onnx_bytes_int8'])}",
        ),
        (
            "Peak activation memory fp32 / int8 (batch 1)",
            f"{_opt(data['peak_activation_bytes_fp32'])} / "
            f"{_opt(data['peak_activation_bytes_int8'])} bytes",
        ),
    ]
    busy = data.get("environment", {}).get("busy_machine", "")
    for latency in data["latency"]:
        items.append(
            (
                f"Latency {latency['runtime']} (batch 1)",
                f"{latency['median_us']:.1f} us ({latency['threads']} thread(s), median of "
                f"{latency['runs']}){'; measured on a busy machine' if busy else ''}",
            )
        )
    items.append(("Test images", f"{accuracy['test_images']:,}"))
    items.append(
        (
            "Test accuracy PyTorch / ONNX fp32 / int8",
            f"{percent(accuracy['pytorch'])} / {percent(accuracy['onnx_fp32'])} / "
            f"{percent(accuracy.get('onnx_int8'))}",
        )
    )
    points = accuracy.get("int8_minus_fp32_points")
    if points is not None:
        items.append(("int8 minus PyTorch accuracy", f"{points:+.2f} points"))
    for key, value in parity.items():
        shown = percent(value) if key.endswith("agreement") else f"{value:.3g}"
        items.append((key.replace("_", " "), shown))
    items.append(
        ("BatchNorm folding", f"{data['fold']['folded']} folded, {data['fold']['kept']} kept")
    )
    return items


def _opt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a report JSON file written by ``tinyconv export``.

    Args:
        path: The ``.json`` file.

    Returns:
        The report as a dict.

    Raises:
        ReportFileError: If the file cannot be read or is not an export report (a
            ``ValueError``).
    """
    return read_report(path, REPORT_FORMAT, "export report")


def deploy_rst(results_dir: str | os.PathLike[str]) -> str:
    """Render the export reports in ``results_dir`` (``*.json``) as one rst list-table.

    One column per report (sorted by file name), one row per figure. With no report,
    a sentence saying the numbers are not yet recorded.

    Args:
        results_dir: Folder of report JSON files (``results/deploy``).

    Returns:
        reStructuredText, ready to ``.. include::``.

    Example:
        >>> deploy_rst("/nonexistent").split(":")[0]
        'No deployment report is recorded yet'
    """
    paths = sorted(Path(results_dir).glob("*.json"))
    if not paths:
        return (
            f"No deployment report is recorded yet: the numbers are not yet measured "
            f"(no ``*.json`` under ``{Path(results_dir).name}/``). They appear here once "
            "``tinyconv export`` reports are committed there.\n"
        )
    columns = [dict(_summary_items(load_report(path))) for path in paths]
    return column_table([path.stem for path in paths], columns)
