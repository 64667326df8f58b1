"""The errors of the microcontroller loop, each naming what is missing and the fix."""

from __future__ import annotations

from tinyconv.errors import TinyconvError

__all__ = ["FirmwareError", "McuError", "ToolchainError"]


class McuError(TinyconvError, ValueError):
    """Input the microcontroller loop cannot take: a float model, an unknown core, no sources.

    Example:
        >>> issubclass(McuError, ValueError)
        True
    """


class ToolchainError(McuError):
    """The Arm compiler or the emulator is not installed.

    Example:
        >>> issubclass(ToolchainError, McuError)
        True
    """


class FirmwareError(McuError):
    """The firmware did not build, did not run, or its run disagrees with the host.

    Example:
        >>> issubclass(FirmwareError, McuError)
        True
    """
