"""``McuReport``: flash, RAM and instructions of one model on one emulated Cortex-M.

The report of :func:`~tinyconv.mcu.run_on_mcu`. ``str()`` prints it for a person;
:meth:`McuReport.to_dict` is the JSON that ``tinyconv mcu`` saves and the docs' table
reads (:func:`load_mcu_report`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tinyconv.formatting import list_table
from tinyconv.report_files import read_report, reports_in

__all__ = [
    "MCU_REPORT_FORMAT",
    "McuReport",
    "load_mcu_report",
    "mcu_estimates_rst",
    "mcu_operators_rst",
    "mcu_rst",
]

MCU_REPORT_FORMAT = "tinyconv.mcu_report"
"""The ``format`` tag of a microcontroller report JSON file (version 1)."""

COUNTING_METHOD = (
    "QEMU -icount shift=0 (1 ns of virtual time per instruction) read through the SysTick "
    "timer; calibrated by a loop of 2,000,000 instructions"
)


@dataclass(frozen=True)
class McuReport:
    """One int8 model built into firmware with CMSIS-NN and run on an emulated core.

    Args:
        model: The .tflite file (or the model file it was exported from).
        dataset: The dataset the test images come from.
        core: The core, its emulated board and the clock of the time estimate.
        flash: Bytes of flash: ``total`` and by part (``model``, ``tflite_micro``,
            ``c_runtime``, ``harness``, ``other``).
        ram: Bytes of RAM: ``arena`` (used on the target), ``static`` (``.data`` +
            ``.bss`` less the arena buffer), ``stack`` (of ``Invoke()``), ``total``.
        instructions: Per inference (``mean``, ``min``, ``max``), the multiply-accumulates
            (``macs``) and instructions per MAC, the same per operator, the counting method
            and its calibration.
        estimate: Milliseconds per inference at the core's clock, from instruction counts
            at one instruction per cycle: an estimate, never a measurement.
        parity: The emulated core's CMSIS-NN outputs against TFLite Micro's reference
            kernels on the host, on the same int8 inputs.
        accuracy: Test accuracy of both on those images.
        build: TFLite Micro's sources and build flags.
        environment: Versions, commit, and the toolchain.
    """

    model: str
    dataset: str
    core: dict[str, Any]
    flash: dict[str, int]
    ram: dict[str, int]
    instructions: dict[str, Any]
    estimate: dict[str, Any]
    parity: dict[str, Any]
    accuracy: dict[str, Any]
    build: dict[str, Any]
    environment: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data with its ``format`` and ``version``."""
        return {"format": MCU_REPORT_FORMAT, "version": 1, **asdict(self)}

    def __str__(self) -> str:
        """The report as a person reads it."""
        core, flash, ram = self.core, self.flash, self.ram
        ins, parity, acc = self.instructions, self.parity, self.accuracy
        lines = [
            f"Model: {self.model} ({self.dataset}) on an emulated {core['name']} "
            f"({core['machine']}), TFLite Micro with CMSIS-NN",
            f"Flash: {flash['total']:,} B (model {flash['model']:,}, TFLite Micro "
            f"{flash['tflite_micro']:,}, C runtime {flash['c_runtime']:,}, harness "
            f"{flash['harness']:,}, other {flash['other']:,})",
            f"RAM: {ram['total']:,} B (arena {ram['arena']:,} + static {ram['static']:,} + "
            f"stack {ram['stack']:,})",
            f"Instructions per inference: {ins['mean']:,.0f} (min {ins['min']:,}, max "
            f"{ins['max']:,}); counted by {ins['method']}: measured "
            f"{ins['calibration']['measured']:,} for {ins['calibration']['expected']:,}",
            f"Estimated time per inference at {self.estimate['clock_mhz']:g} MHz "
            f"({core['clock_part']}): {self.estimate['ms']:.2f} ms (an estimate: one "
            "instruction per cycle; QEMU models no cycles)",
            f"Multiply-accumulates per inference: {ins['macs']:,}"
            + (f" ({ins['per_mac']:.2f} instructions each)" if ins["per_mac"] else ""),
            "Instructions by operator (share; per MAC): "
            + ", ".join(
                f"{op['operator']} {100 * op['share']:.1f} %"
                + (f" ({op['per_mac']:.1f})" if op["per_mac"] else "")
                for op in ins["per_operator"]
            ),
            f"CMSIS-NN on the {core['name']} vs TFLite Micro reference kernels on the host, "
            f"{parity['images']:,} images: same prediction "
            f"{100 * parity['argmax_agreement']:.2f} %, "
            f"identical outputs {100 * parity['identical_outputs']:.2f} %, max "
            f"{parity['max_steps']} quantization step(s)",
            f"Test accuracy on those images: {core['name']} {100 * acc['mcu_int8']:.2f} %, "
            f"host reference {100 * acc['host_reference_int8']:.2f} %",
        ]
        return "\n".join(lines)


def load_mcu_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a microcontroller report JSON file.

    Args:
        path: The ``<name>.mcu.json`` file ``tinyconv mcu`` saved.

    Returns:
        Its data.

    Raises:
        ReportFileError: If it is not readable JSON of this format (a ``ValueError``).
    """
    return read_report(path, MCU_REPORT_FORMAT, "microcontroller report")


def _reports(results_dir: str | os.PathLike[str]) -> list[tuple[str, dict[str, Any]]]:
    """The reports in a folder, by model and then core (M3, M4, M7, M33)."""
    from tinyconv.mcu.cores import CORES

    found = [
        (path.stem.rsplit(".", 1)[0], data)
        for path, data in reports_in(results_dir, MCU_REPORT_FORMAT)
    ]
    order = list(CORES)

    def key(item: tuple[str, dict[str, Any]]) -> tuple[str, int]:
        name, data = item
        core = data["core"]["name"]
        return name.rsplit(".", 1)[0], order.index(core) if core in order else len(order)

    return sorted(found, key=key)


def mcu_rst(results_dir: str | os.PathLike[str]) -> str:
    """Render the saved microcontroller reports in ``results_dir`` as one rst list-table.

    One row per model and core: flash (the model's share), RAM (the arena), instructions
    per inference and per MAC, the estimated time at the core's clock, CMSIS-NN against
    the reference kernels, and the accuracy on the emulated core.

    Args:
        results_dir: Folder of ``<model>.<core>.json`` reports (``results/mcu``).

    Returns:
        reStructuredText, ready to ``.. include::``.

    Example:
        >>> mcu_rst("/nonexistent").split(":")[0]
        'No microcontroller report is recorded yet'
    """
    reports = _reports(results_dir)
    if not reports:
        return (
            "No microcontroller report is recorded yet: the numbers are not yet measured "
            f"(no ``*.json`` under ``{Path(results_dir).name}/``).\n"
        )
    head = [
        "Model", "Core", "Flash B (model)", "RAM B (arena)", "Instructions / inference",
        "Instr. / MAC", "Est. ms (clock)", "CMSIS-NN = reference", "Accuracy (images)",
    ]  # fmt: skip
    rows = []
    for name, data in reports:
        core, ins, parity = data["core"], data["instructions"], data["parity"]
        rows.append(
            [
                name.rsplit(".", 1)[0],
                core["name"],
                f"{data['flash']['total']:,} ({data['flash']['model']:,})",
                f"{data['ram']['total']:,} ({data['ram']['arena']:,})",
                f"{ins['mean']:,.0f}",
                f"{ins['per_mac']:.2f}" if ins.get("per_mac") else "-",
                f"{data['estimate']['ms']:.1f} ({core['clock_mhz']:g} MHz)",
                f"{100 * parity['argmax_agreement']:.1f} % (max {parity['max_steps']} steps)",
                f"{100 * data['accuracy']['mcu_int8']:.2f} % ({data['accuracy']['images']:,})",
            ]
        )
    return list_table(head, rows)


def mcu_operators_rst(results_dir: str | os.PathLike[str], core: str = "cortex-m4") -> str:
    """Render where the instructions go, per operator, for each model on one core.

    Args:
        results_dir: Folder of ``<model>.<core>.json`` reports.
        core: Which core's reports to show.

    Returns:
        reStructuredText: one list-table row per operator that computes MACs or takes at
        least 1 % of the instructions.

    Example:
        >>> mcu_operators_rst("/nonexistent").split(":")[0]
        'No cortex-m4 report is recorded yet'
    """
    chosen = [(n, d) for n, d in _reports(results_dir) if d["core"]["name"] == core]
    if not chosen:
        return f"No {core} report is recorded yet: the numbers are not yet measured.\n"
    head = ["Model", "#", "Operator", "MACs", "Instructions", "Share", "Instr. / MAC"]
    rows = []
    for name, data in chosen:
        for op in data["instructions"]["per_operator"]:
            if op["macs"] or op["share"] >= 0.01:
                rows.append(
                    [
                        name.rsplit(".", 1)[0],
                        str(op["index"]),
                        op["operator"],
                        f"{op['macs']:,}" if op["macs"] else "-",
                        f"{op['instructions']:,.0f}",
                        f"{100 * op['share']:.1f} %",
                        f"{op['per_mac']:.1f}" if op["per_mac"] else "-",
                    ]
                )
    return list_table(head, rows)


def mcu_estimates_rst(estimates_file: str | os.PathLike[str], core: str = "cortex-m4") -> str:
    """Render the device estimates against the emulated runs as one rst list-table.

    One row per measured architecture: its parameters, and for the model's flash, the
    arena and the instructions per inference the measured figure, the estimate of a fit
    that left that architecture out, and the difference.

    Args:
        estimates_file: ``results/mcu/estimates.json``, as
            ``benchmarks/mcu_estimates.py`` writes it.
        core: Which core's rows to show.

    Returns:
        reStructuredText, ready to ``.. include::``.

    Example:
        >>> mcu_estimates_rst("/nonexistent.json").split(":")[0]
        'No device estimate is validated yet'
    """
    path = Path(estimates_file)
    rows_in = json.loads(path.read_text())["cores"].get(core, []) if path.is_file() else []
    if not rows_in:
        return f"No device estimate is validated yet: no {core} rows in ``{path.name}``.\n"
    head = ["Model", "Params", "Flash B: run / estimate", "Arena B: run / estimate",
            "Instructions: run / estimate"]  # fmt: skip
    rows = []
    for row in sorted(rows_in, key=lambda r: r["params"]):
        cells = [row["model"].replace("__", "/"), f"{row['params']:,}"]
        for name in ("flash", "arena", "instructions"):
            cells.append(
                f"{row[f'{name}_measured']:,.0f} / {row[f'{name}_estimated']:,} "
                f"({100 * row[f'{name}_error']:+.1f} %)"
            )
        rows.append(cells)
    return list_table(head, rows)
