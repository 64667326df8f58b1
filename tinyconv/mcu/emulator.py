"""Run a firmware image on an emulated Cortex-M and read back what it printed and wrote.

QEMU's ``qemu-system-arm`` runs the image on the core's MPS2 board with ``-icount
shift=0``: its virtual clock advances exactly 1 ns per executed instruction, so a run
is deterministic, whatever else the host is doing. The harness reads the board's SysTick
timer, which counts the processor clock in that virtual time; a loop of known length
(2,000,000 instructions) gives the instructions per tick (40 on these 25 MHz boards),
and the run is refused unless it is a whole number. Semihosting carries the harness's
lines to stdout and its ``images.bin`` / ``outputs.bin`` to and from the host's folder.

QEMU counts instructions, not cycles: it models no pipeline, wait states, caches or
dual issue. Every time derived from its counts is an estimate.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyconv.mcu.cores import Core
from tinyconv.mcu.errors import FirmwareError
from tinyconv.mcu.toolchain import Toolchain

__all__ = ["EmulatorRun", "parse_harness_output", "run_firmware"]

_FAULT_STATUS = 70


@dataclass(frozen=True)
class EmulatorRun:
    """What the harness measured in one emulated run.

    Args:
        outputs: The model's int8 outputs, ``[N, num_classes]``.
        arena_used_bytes: ``MicroInterpreter::arena_used_bytes()`` on the target.
        stack_bytes: Stack used by the first ``Invoke()``, below ``main``'s frame.
        calibration_instructions: Instructions of the calibration loop.
        calibration_ticks: SysTick ticks it took.
        instructions_per_tick: Their ratio, a whole number.
        invoke_ticks: Ticks of every ``Invoke()`` together, the fewest and the most of one.
        operator_ticks: ``(operator, ticks)`` per operator in graph order, summed over
            every ``Invoke()``.
    """

    outputs: np.ndarray
    arena_used_bytes: int
    stack_bytes: int
    calibration_instructions: int
    calibration_ticks: int
    instructions_per_tick: int
    invoke_ticks: tuple[int, int, int]
    operator_ticks: tuple[tuple[str, int], ...]


def parse_harness_output(text: str) -> dict[str, list[list[str]]]:
    r"""Group the harness's ``TINYCONV <what> <values...>`` lines by ``what``.

    Args:
        text: What the firmware printed.

    Returns:
        ``{what: [values of each such line]}``.

    Raises:
        FirmwareError: If the harness reported an error or did not finish.

    Example:
        >>> lines = parse_harness_output("boot\nTINYCONV arena 1234\nTINYCONV done\n")
        >>> lines["arena"]
        [['1234']]
        >>> parse_harness_output("TINYCONV error allocate_tensors\n")
        Traceback (most recent call last):
        ...
        tinyconv.mcu.errors.FirmwareError: the firmware stopped: allocate_tensors
    """
    found: dict[str, list[list[str]]] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "TINYCONV":
            found.setdefault(words[1], []).append(words[2:])
    if "error" in found:
        raise FirmwareError(f"the firmware stopped: {' '.join(found['error'][0])}")
    if "done" not in found:
        raise FirmwareError(f"the firmware did not finish; it printed: {text.strip()[-400:]!r}")
    return found


def run_firmware(
    elf: Path,
    core: Core,
    toolchain: Toolchain,
    images: np.ndarray,
    output_size: int,
    *,
    timeout_s: float = 1800,
) -> EmulatorRun:
    """Run ``elf`` on the core's emulated board over ``images``; read its outputs and counts.

    Args:
        elf: The firmware (from :func:`~tinyconv.mcu.firmware.build_firmware`); its folder
            receives ``images.bin`` and ``outputs.bin``.
        core: The core, whose board QEMU emulates.
        toolchain: Gives the emulator.
        images: int8 inputs ``[N, ...]`` in the model's input layout.
        output_size: Values of one output.
        timeout_s: Give up after this long.

    Returns:
        The run's outputs and counts.

    Raises:
        FirmwareError: If the emulator fails, the firmware faults or stops, the output is
            short, or the calibration is not a whole number of instructions per tick.
    """
    folder = elf.parent
    (folder / "images.bin").write_bytes(np.ascontiguousarray(images, dtype=np.int8).tobytes())
    command = [
        str(toolchain.qemu), "-M", core.machine, "-cpu", core.name, "-display", "none",
        "-monitor", "none", "-serial", "none", "-semihosting-config",
        "enable=on,target=native", "-icount", "shift=0", "-kernel", elf.name,
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise FirmwareError(
            f"the emulated {core.name} did not finish {len(images)} images in {timeout_s:.0f} s"
        ) from None
    if done.returncode == _FAULT_STATUS:
        raise FirmwareError(f"the firmware faulted on the emulated {core.name}")
    if done.returncode != 0:
        parse_harness_output(done.stdout)  # the harness's own error, if it printed one
        raise FirmwareError(
            f"{Path(command[0]).name} -M {core.machine} exited with {done.returncode}: "
            f"{(done.stderr or done.stdout).strip()[-400:]}"
        )
    lines = parse_harness_output(done.stdout)
    loop, ticks = (int(v) for v in lines["calibration"][0])
    ratio = loop / ticks if ticks else 0.0
    per_tick = round(ratio)
    if per_tick < 1 or abs(ratio - per_tick) > 1e-3 * per_tick:
        raise FirmwareError(
            f"the calibration loop of {loop:,} instructions took {ticks:,} SysTick ticks "
            f"({ratio:.4f} per tick, not a whole number): the emulator is not counting "
            "instructions (is -icount on?)"
        )
    raw = np.frombuffer((folder / "outputs.bin").read_bytes(), dtype=np.int8)
    count = int(lines["invokes"][0][0])
    if count != len(images) or raw.size != count * output_size:
        raise FirmwareError(
            f"the firmware ran {count} of {len(images)} images and wrote {raw.size} of "
            f"{len(images) * output_size} output values"
        )
    return EmulatorRun(
        outputs=raw.reshape(count, output_size).copy(),
        arena_used_bytes=int(lines["arena"][0][0]),
        stack_bytes=int(lines["stack"][0][0]),
        calibration_instructions=loop,
        calibration_ticks=ticks,
        instructions_per_tick=per_tick,
        invoke_ticks=tuple(int(v) for v in lines["invokes"][0][1:4]),  # type: ignore[arg-type]
        operator_ticks=tuple((words[1], int(words[2])) for words in lines.get("op", [])),
    )
