"""The Cortex-M cores the firmware loop runs on, each with the emulated board that has it.

QEMU emulates Arm's MPS2 FPGA boards, one image per core: ``mps2-an385`` (Cortex-M3),
``mps2-an386`` (M4), ``mps2-an500`` (M7) and ``mps2-an505`` (M33). Each runs code from
an SRAM at address 0 (the M33's secure alias at ``0x10000000``) and has another SRAM
for the harness's stack. The typical clock of a core is
that of one widely used part with it (named in :attr:`Core.clock_part`); time per
inference is only ever *estimated* from it: QEMU counts instructions, not cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyconv.mcu.errors import McuError

__all__ = ["CORES", "Core", "core"]


@dataclass(frozen=True)
class Core:
    """One Cortex-M core: how to compile for it and which emulated board runs it.

    Args:
        name: The core as GCC's ``-mcpu`` names it (``cortex-m4``).
        machine: QEMU's board with that core (``mps2-an386``).
        clock_mhz: A typical clock of a part with this core, for the time estimate.
        clock_part: The part that clock is taken from.
        code_address: Where the board runs code from (the vector table is linked there).
        stack_top: The initial stack pointer: the top of a RAM the core may use.
    """

    name: str
    machine: str
    clock_mhz: float
    clock_part: str
    code_address: int = 0x00000000
    stack_top: int = 0x20400000


CORES: dict[str, Core] = {
    c.name: c
    for c in (
        Core("cortex-m3", "mps2-an385", 72.0, "STM32F103"),
        Core("cortex-m4", "mps2-an386", 64.0, "nRF52840 (Arduino Nano 33 BLE Sense)"),
        Core("cortex-m7", "mps2-an500", 216.0, "STM32F746"),
        # TrustZone: the core starts secure, so code and stack live in the secure aliases
        # of the board's SRAMs (0x10000000 and 0x38000000).
        Core("cortex-m33", "mps2-an505", 128.0, "nRF5340 application core", 0x10000000, 0x38200000),
    )
}
"""The cores :func:`~tinyconv.mcu.run_on_mcu` builds for, by name."""


def core(name: str) -> Core:
    """Return the core called ``name``.

    Args:
        name: ``cortex-m3``, ``cortex-m4``, ``cortex-m7`` or ``cortex-m33`` (``m4`` too).

    Returns:
        The core.

    Raises:
        McuError: For a core the loop does not know.

    Example:
        >>> core("m4").machine
        'mps2-an386'
        >>> core("cortex-m0")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.mcu.errors.McuError: unknown core 'cortex-m0'; choose one of cortex-m3, ...
    """
    key = name.lower() if name.lower().startswith("cortex-") else f"cortex-{name.lower()}"
    if key not in CORES:
        raise McuError(f"unknown core {name!r}; choose one of {', '.join(CORES)}")
    return CORES[key]
