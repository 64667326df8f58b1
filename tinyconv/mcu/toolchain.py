"""The programs the firmware loop runs: Arm's GNU compiler and binutils, and QEMU.

All come from Debian's packages (``gcc-arm-none-eabi``, ``libnewlib-arm-none-eabi``,
``libstdc++-arm-none-eabi-newlib``, ``qemu-system-arm``) or any other install that puts
them on ``PATH``. :func:`find_toolchain` finds them all before any work starts, so a
missing one is one error naming the packages, never a failure halfway through a build.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tinyconv.mcu.errors import ToolchainError

__all__ = ["PACKAGES", "Toolchain", "find_toolchain"]

PACKAGES = (
    "gcc-arm-none-eabi",
    "libnewlib-arm-none-eabi",
    "libstdc++-arm-none-eabi-newlib",
    "qemu-system-arm",
)
"""The Debian packages that provide the toolchain."""

_PROGRAMS = {
    "cc": "arm-none-eabi-gcc",
    "cxx": "arm-none-eabi-g++",
    "readelf": "arm-none-eabi-readelf",
    "nm": "arm-none-eabi-nm",
    "qemu": "qemu-system-arm",
}


@dataclass(frozen=True)
class Toolchain:
    """Paths of the programs that build and run the firmware.

    Args:
        cc: The Arm C compiler.
        cxx: The Arm C++ compiler (also the linker driver).
        readelf: Reads the linked image's sections.
        nm: Reads its symbols' sizes.
        qemu: The system emulator with the MPS2 boards.
    """

    cc: Path
    cxx: Path
    readelf: Path
    nm: Path
    qemu: Path

    @property
    def bin_dir(self) -> Path:
        """The folder of the compiler (TFLite Micro's make wants all Arm tools in one)."""
        return self.cxx.parent

    def versions(self) -> dict[str, str]:
        """Return the first line each program prints for ``--version``."""
        found = {}
        for label, path in (("arm-none-eabi-gcc", self.cxx), ("qemu-system-arm", self.qemu)):
            done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
            found[label] = (done.stdout.strip().splitlines() or ["?"])[0]
        return found


def find_toolchain() -> Toolchain:
    """Find the Arm compiler, binutils and QEMU on ``PATH``.

    Returns:
        Their paths.

    Raises:
        ToolchainError: Naming every program that is missing and the packages to install.
    """
    found = {label: shutil.which(program) for label, program in _PROGRAMS.items()}
    missing = [_PROGRAMS[label] for label, path in found.items() if path is None]
    if missing:
        raise ToolchainError(
            f"{', '.join(missing)} not found on PATH; install the Arm toolchain and the "
            f"emulator: apt-get install {' '.join(PACKAGES)}"
        )
    return Toolchain(**{label: Path(path) for label, path in found.items() if path})
