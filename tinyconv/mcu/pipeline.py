"""``run_on_mcu``: from a trained model to a verified firmware run on an emulated Cortex-M.

The steps, each owned by its module: find the toolchain (:mod:`.toolchain`) and the
TFLite Micro sources (:mod:`.tflm`) before any work; take the int8 .tflite (or export
one from a model file with :func:`~tinyconv.export.export_tflite`); quantize the first
N test images as the model's input takes them; run them through TFLite Micro's
reference kernels on the host; build the firmware with CMSIS-NN (:mod:`.firmware`), run
it on the core's emulated board (:mod:`.emulator`); compare the two, and write the
report (:mod:`.report`), the image and the model's C files. The output folder is built
aside and moved into place whole (:func:`tinyconv.outputs.output_folder`): an error or
Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tinyconv.data import load_dataset
from tinyconv.data.scoring import argmax_agreement, top1_accuracy
from tinyconv.errors import ReportFileError
from tinyconv.mcu.cores import Core, core
from tinyconv.mcu.emulator import EmulatorRun, run_firmware
from tinyconv.mcu.errors import FirmwareError, McuError
from tinyconv.mcu.firmware import Firmware, build_firmware
from tinyconv.mcu.report import COUNTING_METHOD, McuReport
from tinyconv.mcu.tflm import BUILD_TYPE, KERNELS, TflmSources, build_library, tflm_sources
from tinyconv.mcu.toolchain import Toolchain, find_toolchain
from tinyconv.normalization import Normalization
from tinyconv.outputs import output_folder
from tinyconv.provenance import environment

__all__ = ["MCU_SUFFIXES", "run_on_mcu"]

MCU_SUFFIXES = (".mcu.json", ".elf", ".map", "_model.h", "_model.c", ".tflite", ".tflite.json")
"""Endings of the files ``tinyconv mcu`` writes; ``--overwrite`` replaces only such a folder."""


def _stem(path: Path) -> str:
    return path.name.removesuffix(".tflite").removesuffix(".int8")


def _export_report(tflite: Path) -> dict[str, Any]:
    """The ``tinyconv export`` report beside an exported .tflite file, if there is one."""
    beside = tflite.with_name(f"{_stem(tflite)}.tflite.json")
    if not beside.is_file():
        return {}
    from tinyconv.export.tflite_report import load_tflite_report

    try:
        return load_tflite_report(beside)
    except ReportFileError:  # another file of that name: the report is optional
        return {}


def _int8_tflite(
    model: Path, staged: Path, dataset: str | None, data_root: Any, images: int
) -> Path:
    """The int8 .tflite to run: ``model`` itself, or exported from a model file into ``staged``.

    The export is verified (in LiteRT, and in TFLite Micro on up to 200 of them) on the
    same first ``images`` test images the firmware then runs.
    """
    if model.suffix == ".tflite":
        return model
    from tinyconv.export import export_tflite

    with tempfile.TemporaryDirectory() as work:
        exported = Path(work) / "export"
        report = export_tflite(
            model, exported, int8=True, dataset=dataset, data_root=data_root,
            test_images=images, micro_images=min(images, 200),
        )  # fmt: skip
        for file in exported.iterdir():
            shutil.copy2(file, staged / file.name)
    return staged / report.files["tflite_int8"]


def _check_int8(data: bytes, shown: str) -> tuple[Any, Any]:
    from tinyconv.export.tflite_graph import io_quantization

    quant_in, quant_out = io_quantization(data)
    if quant_in.dtype != "INT8" or quant_out.dtype != "INT8":
        raise McuError(
            f"{shown} has {quant_in.dtype.lower()} input and {quant_out.dtype.lower()} output; "
            "the firmware runs fully int8 models: export with tinyconv export MODEL --format "
            "tflite --int8 and give its .int8.tflite file (or give the model file itself)"
        )
    return quant_in, quant_out


def _instructions(run: EmulatorRun, count: int, macs: list[int]) -> dict[str, Any]:
    per_tick = run.instructions_per_tick
    total, least, most = (ticks * per_tick for ticks in run.invoke_ticks)
    operators = [(op, ticks * per_tick / count) for op, ticks in run.operator_ticks]
    in_operators = sum(value for _, value in operators) or 1.0
    if len(macs) != len(operators):
        raise FirmwareError(
            f"the firmware profiled {len(operators)} operators; the model has {len(macs)}"
        )
    return {
        "mean": total / count,
        "min": least,
        "max": most,
        "macs": sum(macs),
        "per_mac": total / count / sum(macs) if sum(macs) else None,
        "per_operator": [
            {
                "index": i,
                "operator": op,
                "instructions": value,
                "share": value / in_operators,
                "macs": op_macs,
                "per_mac": value / op_macs if op_macs else None,
            }
            for i, ((op, value), op_macs) in enumerate(zip(operators, macs, strict=True))
        ],
        "method": COUNTING_METHOD,
        "calibration": {
            "expected": run.calibration_instructions,
            "ticks": run.calibration_ticks,
            "instructions_per_tick": per_tick,
            "measured": run.calibration_ticks * per_tick,
        },
    }


def _parity(mcu: np.ndarray, host: np.ndarray) -> dict[str, Any]:
    steps = np.abs(mcu.astype(np.int32) - host.astype(np.int32))
    return {
        "images": len(mcu),
        "argmax_agreement": argmax_agreement(mcu, host),
        "identical_outputs": float((steps.max(1) == 0).mean()),
        "max_steps": int(steps.max()),
        "reference": "TFLite Micro reference kernels (tflite-micro Python package, host)",
    }


def _report(
    *,
    source: str,
    data: bytes,
    dataset: str,
    the_core: Core,
    clock_mhz: float,
    firmware: Firmware,
    run: EmulatorRun,
    host: np.ndarray,
    labels: np.ndarray,
    sources: TflmSources,
    toolchain: Toolchain,
    cxxflags: tuple[str, ...],
) -> McuReport:
    from tinyconv.export.tflite_graph import tflite_ops

    count = len(labels)
    instructions = _instructions(run, count, [op.macs for op in tflite_ops(data)])
    ram = {
        "arena": run.arena_used_bytes,
        "static": firmware.static_ram_bytes,
        "stack": run.stack_bytes,
    }
    return McuReport(
        model=source,
        dataset=dataset,
        core={
            "name": the_core.name,
            "machine": the_core.machine,
            "clock_mhz": clock_mhz,
            "clock_part": the_core.clock_part,
        },
        flash={"total": firmware.flash_bytes, **firmware.flash_by_part},
        ram={**ram, "total": sum(ram.values())},
        instructions=instructions,
        estimate={
            "clock_mhz": clock_mhz,
            "ms": instructions["mean"] / (clock_mhz * 1e3),
            "assumes": "one instruction per cycle, no wait states: an estimate, not a measurement",
        },
        parity=_parity(run.outputs, host),
        accuracy={
            "images": count,
            "mcu_int8": top1_accuracy(run.outputs, labels),
            "host_reference_int8": top1_accuracy(host, labels),
        },
        build={
            "tflite_micro": sources.key,
            "tflite_micro_origin": sources.origin,
            "kernels": KERNELS,
            "build_type": BUILD_TYPE,
            "cxxflags": " ".join(cxxflags),
            "arena_buffer_bytes": firmware.arena_buffer_bytes,
            "sections": firmware.sections,
        },
        environment={**environment(), **toolchain.versions()},
    )


def run_on_mcu(
    model: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    cpu: str = "cortex-m4",
    images: int = 1000,
    dataset: str | None = None,
    data_root: str | os.PathLike[str] | None = None,
    tflm: str | os.PathLike[str] | None = None,
    clock_mhz: float | None = None,
    prefix: str | None = None,
    overwrite: bool = False,
    log: Callable[[str], None] | None = None,
) -> McuReport:
    """Build an int8 model into Cortex-M firmware with CMSIS-NN, run it emulated, report.

    Writes into ``out_dir``: ``<name>.<core>.mcu.json`` (the report),
    ``<name>.<core>.elf`` and ``.map`` (the image and its linker map), and
    ``<name>_model.h`` / ``.c`` (the model as C, symbols ``<prefix>_...``); from a model
    file also the ``tinyconv export --format tflite --int8`` files. All or nothing.

    Args:
        model: An int8 .tflite file from ``tinyconv export --format tflite --int8`` (the
            report beside it names the dataset and normalisation), or a model file
            (``tinyconv.save``), which is exported first.
        out_dir: Output folder (new or empty unless ``overwrite``).
        cpu: ``cortex-m3``, ``cortex-m4``, ``cortex-m7`` or ``cortex-m33``.
        images: Run the first N test images.
        dataset: The registered dataset of the images (default: the export report's).
        data_root: Where the dataset lives (default ``$TINYCONV_DATA``).
        tflm: TFLite Micro sources: a checkout or an archive (default ``$TINYCONV_TFLM``).
        clock_mhz: Clock of the time estimate (default: the core's typical clock).
        prefix: Prefix of the model's C symbols (default: the file's name).
        overwrite: Replace ``out_dir`` whole if it holds an earlier run's files only.
        log: Told a line before long steps (the one-time library build).

    Returns:
        The report (also saved as JSON).

    Raises:
        ToolchainError: If the Arm compiler or QEMU is missing.
        McuError: For a float model, an unknown core, no sources, no dataset, bad counts.
        FirmwareError: If the firmware fails to build or run, or its outputs are short.
        OutputExistsError: If ``out_dir`` holds files and ``overwrite`` is false.
    """
    the_core = core(cpu)
    if images < 1:
        raise McuError(f"images must be >= 1, got {images}")
    if clock_mhz is not None and not (math.isfinite(clock_mhz) and clock_mhz > 0):
        raise McuError(f"clock_mhz must be a positive number, got {clock_mhz}")
    path = Path(model)
    if not path.is_file():
        raise McuError(
            f"no file at {str(model)!r}; give an int8 .tflite from tinyconv export --format "
            "tflite --int8, or a model file"
        )
    toolchain = find_toolchain()
    sources = tflm_sources(tflm)
    owns = lambda name: name.endswith(MCU_SUFFIXES)  # noqa: E731
    with output_folder(out_dir, overwrite=overwrite, owns=owns, command="tinyconv mcu") as staged:
        tflite = _int8_tflite(path, staged, dataset, data_root, images)
        data = tflite.read_bytes()
        quant_in, quant_out = _check_int8(data, str(tflite))
        exported = _export_report(tflite)
        name = dataset or exported.get("dataset")
        if not name:
            raise McuError(
                f"no export report beside {str(tflite)!r} names its dataset; pass --dataset NAME"
            )
        test = load_dataset(name, data_root, train=False)
        if tuple(test.image_shape) != tuple(quant_in.shape[1:]):
            raise McuError(
                f"the {name} images are {'x'.join(map(str, test.image_shape))} but the model "
                f"takes {'x'.join(map(str, quant_in.shape[1:]))}; pass the model's --dataset"
            )
        recorded = exported.get("normalization")
        norm = Normalization.from_dict(recorded) if recorded else test.normalization
        x = norm.apply(test.images[:images])
        labels = test.labels[:images].numpy()
        from tinyconv.export.micro import micro_arena, micro_logits
        from tinyconv.export.tflite_graph import quantize_input

        host = micro_logits(data, x, raw=True)
        library = build_library(sources, the_core, toolchain, log=log)
        stem = _stem(tflite)
        with tempfile.TemporaryDirectory() as work:
            firmware = build_firmware(
                data, library, toolchain, Path(work), name=f"{stem}_model", prefix=prefix or stem,
                arena=micro_arena(data), input_quantization=quant_in,
                output_quantization=quant_out, mean=norm.mean, std=norm.std, source=str(path),
                class_names=test.class_names,
            )  # fmt: skip
            run = run_firmware(
                firmware.elf, the_core, toolchain, quantize_input(x, quant_in),
                int(np.prod(quant_out.shape[1:])),
            )  # fmt: skip
            for suffix in ("elf", "map"):
                shutil.copy2(
                    Path(work) / f"firmware.{suffix}", staged / f"{stem}.{the_core.name}.{suffix}"
                )
            for suffix in ("h", "c"):
                shutil.copy2(
                    Path(work) / f"{stem}_model.{suffix}", staged / f"{stem}_model.{suffix}"
                )
        report = _report(
            source=str(model), data=data, dataset=name, the_core=the_core,
            clock_mhz=clock_mhz or the_core.clock_mhz, firmware=firmware, run=run, host=host,
            labels=labels, sources=sources, toolchain=toolchain, cxxflags=library.cxxflags,
        )  # fmt: skip
        text = json.dumps(report.to_dict(), indent=2) + "\n"
        (staged / f"{stem}.{the_core.name}.mcu.json").write_text(text)
    return report
