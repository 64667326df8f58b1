"""The microcontroller in the loop: an int8 model in Cortex-M firmware, run emulated.

:func:`run_on_mcu` builds TensorFlow Lite for Microcontrollers with Arm's optimised
CMSIS-NN kernels for a Cortex-M core, links it with the model's C array and tinyconv's
harness into a firmware image, runs the image on the core's emulated MPS2 board in QEMU
over real test images, and reports what a firmware engineer decides by: **flash** (from
the linked image, split into model, TFLite Micro, C runtime and harness), **RAM** (the
arena TFLite Micro used on the target, static data, the stack of one inference) and
**instructions per inference** (counted exactly, per operator), with an *estimated*
time at the core's clock; and it checks the CMSIS-NN outputs against TFLite Micro's
reference kernels on the host. ``tinyconv mcu`` is its command.

It needs the Arm GNU toolchain and QEMU (Debian: ``gcc-arm-none-eabi``,
``libnewlib-arm-none-eabi``, ``libstdc++-arm-none-eabi-newlib``, ``qemu-system-arm``),
TFLite Micro's sources with their downloads (``--tflm-dir`` or ``$TINYCONV_TFLM``) and
the ``[tflite]`` extra. The library is built once per core into a cache
(``$TINYCONV_CACHE``, default ``~/.cache/tinyconv``).
"""

from tinyconv.mcu.cores import CORES, Core
from tinyconv.mcu.errors import FirmwareError, McuError, ToolchainError
from tinyconv.mcu.pipeline import run_on_mcu
from tinyconv.mcu.report import McuReport, load_mcu_report

__all__ = [
    "CORES",
    "Core",
    "FirmwareError",
    "McuError",
    "McuReport",
    "ToolchainError",
    "load_mcu_report",
    "run_on_mcu",
]
