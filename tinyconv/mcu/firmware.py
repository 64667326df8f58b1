"""The firmware image: tinyconv's harness, the model's C array and TFLite Micro, linked.

:func:`build_firmware` writes the model as C (:func:`~tinyconv.export.firmware_sources`,
the same files ``tinyconv export --format tflite`` writes for a sketch), an operator
resolver with exactly the model's operators (so the linker keeps only their kernels, as
a firmware engineer would write it), and compiles them with the harness in
``tinyconv/mcu/firmware/`` against the cached library (:func:`~.tflm.build_library`).

It then reads what the image costs from the linked file itself: *flash* is every loaded
section (code, read-only data, the initial values of ``.data``), *static RAM* every
writable one (``.data`` and ``.bss``) less the harness's arena buffer, whose used part
the run reports instead. The linker's map splits flash into the model's array, TFLite
Micro (runtime and kernels), the C and C++ runtime (newlib with semihosting, libgcc,
libstdc++) and the harness; only the harness (and the semihosting I/O in the C runtime)
would not ship in a product.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tinyconv.export.c_array import c_identifier, firmware_sources
from tinyconv.export.micro import MicroArena
from tinyconv.export.tflite_graph import TensorQuantization, tflite_ops
from tinyconv.mcu.errors import FirmwareError, McuError
from tinyconv.mcu.tflm import TflmLibrary
from tinyconv.mcu.toolchain import Toolchain

__all__ = ["Firmware", "build_firmware", "resolver_calls"]

_RESOLVER_HEADER = "tensorflow/lite/micro/micro_mutable_op_resolver.h"
_MAX_EVENTS = 256
_STACK_PROBE_BYTES = 64 * 1024
_C_FLAGS = ("-m", "--specs", "-D", "-funsigned-char", "-fomit-frame-pointer", "-ffunction-sec",
            "-fdata-sec")  # fmt: skip


@dataclass(frozen=True)
class Firmware:
    """A linked firmware image and what it costs.

    Args:
        elf: The image (``firmware.elf``).
        flash_bytes: Every loaded section: code, read-only data, ``.data``'s initial values.
        static_ram_bytes: ``.data`` + ``.bss``, less the arena buffer.
        arena_buffer_bytes: The tensor arena the harness reserves (the run reports the part
            TFLite Micro used).
        flash_by_part: Flash split by where it came from: ``model``, ``tflite_micro``,
            ``c_runtime``, ``harness`` and ``other`` (the linker's own bytes).
        sections: Size of each loaded section.
    """

    elf: Path
    flash_bytes: int
    static_ram_bytes: int
    arena_buffer_bytes: int
    flash_by_part: dict[str, int] = field(default_factory=dict)
    sections: dict[str, int] = field(default_factory=dict)


def _op_method(name: str) -> str:
    """``DEPTHWISE_CONV_2D`` -> ``AddDepthwiseConv2D``."""
    words = [w if re.fullmatch(r"\d+D", w) else w.capitalize() for w in name.split("_")]
    return "Add" + "".join(words)


def resolver_calls(op_names: list[str], known: set[str]) -> list[str]:
    """Return the ``MicroMutableOpResolver`` methods that register ``op_names``, each once.

    Args:
        op_names: Builtin operator names of the model (``CONV_2D``), in graph order.
        known: The ``Add...`` methods the resolver of these sources has.

    Returns:
        The methods, in order of first use.

    Raises:
        McuError: For an operator TFLite Micro has no kernel for.

    Example:
        >>> resolver_calls(["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D"],
        ...                {"AddConv2D", "AddDepthwiseConv2D"})
        ['AddConv2D', 'AddDepthwiseConv2D']
        >>> resolver_calls(["GELU"], {"AddConv2D"})
        Traceback (most recent call last):
        ...
        tinyconv.mcu.errors.McuError: the model uses GELU, which this TFLite Micro has no kernel for (no AddGelu in its op resolver)
    """  # noqa: E501
    calls: list[str] = []
    for name in op_names:
        method = _op_method(name)
        if method not in known:
            raise McuError(
                f"the model uses {name}, which this TFLite Micro has no kernel for "
                f"(no {method} in its op resolver)"
            )
        if method not in calls:
            calls.append(method)
    return calls


def _run(command: list[str], folder: Path, what: str) -> str:
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-6:])
        raise FirmwareError(f"{what} failed (exit {done.returncode}): {tail}")
    return done.stdout


def _sections(toolchain: Toolchain, elf: Path) -> dict[str, tuple[str, int, str]]:
    """``{name: (type, size, flags)}`` of the image's sections, read by readelf."""
    text = _run([str(toolchain.readelf), "-S", "-W", str(elf)], elf.parent, "readelf")
    row = re.compile(
        r"\]\s+(?P<name>\S+)\s+(?P<type>\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+(?P<size>[0-9a-f]+)"
        r"\s+[0-9a-f]+\s+(?P<flags>[A-Za-z]*)\s"
    )
    return {
        m["name"]: (m["type"], int(m["size"], 16), m["flags"])
        for m in row.finditer(text)
        if "A" in m["flags"]
    }


def _symbol_size(toolchain: Toolchain, elf: Path, symbol: str) -> int:
    text = _run([str(toolchain.nm), "-S", str(elf)], elf.parent, "nm")
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == symbol:
            return int(parts[1], 16)
    raise FirmwareError(f"the linked image has no symbol {symbol}")


_MAP_ROW = re.compile(
    r"^\s+(?:(?P<section>\S+)\s+)?0x[0-9a-f]+\s+0x(?P<size>[0-9a-f]+)\s+(?P<file>\S+)$"
)
_OUTPUT_SECTION = re.compile(r"^(?P<name>\.\S+)(?:\s+0x[0-9a-f]+\s+0x[0-9a-f]+)?\s*$")


def flash_parts(map_text: str, flash_sections: set[str], library: str) -> dict[str, int]:
    """Split the flash of a linker map by where each input section came from.

    Args:
        map_text: The ``-Wl,-Map`` file.
        flash_sections: Names of the output sections that occupy flash.
        library: File name of TFLite Micro's archive.

    Returns:
        Bytes per part: ``model``, ``tflite_micro``, ``c_runtime``, ``harness``.

    Example:
        >>> text = '''Linker script and memory map
        ... .text           0x00008000      0x300
        ...  .text.a        0x00008000      0x100 /b/libtensorflow-microlite.a(x.o)
        ...  .text.main     0x00008100      0x80 main.o
        ...  .text.memcpy   0x00008180      0x40 /usr/lib/libc.a(memcpy.o)
        ... .rodata         0x00008300      0x20
        ...  .rodata        0x00008300      0x20 model.o
        ... .bss            0x00009000      0x10
        ...  .bss           0x00009000      0x10 main.o'''
        >>> flash_parts(text, {".text", ".rodata"}, "libtensorflow-microlite.a")
        {'model': 32, 'tflite_micro': 256, 'c_runtime': 64, 'harness': 128}
    """
    parts = {"model": 0, "tflite_micro": 0, "c_runtime": 0, "harness": 0}
    _, _, body = map_text.partition("Linker script and memory map")
    current = ""
    for line in body.splitlines():
        output = _OUTPUT_SECTION.match(line)
        if output:
            current = output["name"]
            continue
        row = _MAP_ROW.match(line)
        if not row or current not in flash_sections or row["file"].startswith("*"):
            continue
        file = row["file"]
        size = int(row["size"], 16)
        own = file.rsplit("/", 1)[-1]  # the firmware's own objects are linked by bare name
        if f"{library}(" in file:
            parts["tflite_micro"] += size
        elif own == "model.o" and file == own:
            parts["model"] += size
        elif own in ("main.o", "vectors.o") and file == own:
            parts["harness"] += size
        else:
            parts["c_runtime"] += size
    return parts


def _harness_config(
    header: str, ident: str, calls: list[str], arena_bytes: int, stack_top: int
) -> str:
    adds = " ".join(f"r.{call}();" for call in calls)
    return "\n".join(
        (
            "/* Generated by tinyconv.mcu for this model. */",
            f'#include "{header}"',
            f"#define TINYCONV_STACK_TOP 0x{stack_top:08x}u",
            f"#define TINYCONV_MODEL {ident}_tflite",
            f"#define TINYCONV_OP_COUNT {len(calls)}",
            f"#define TINYCONV_ADD_OPS(r) do {{ {adds} }} while (0)",
            f"#define TINYCONV_ARENA_BYTES {arena_bytes}",
            f"#define TINYCONV_MAX_EVENTS {_MAX_EVENTS}",
            f"#define TINYCONV_STACK_PROBE_BYTES {_STACK_PROBE_BYTES}",
            "",
        )
    )


def build_firmware(
    data: bytes,
    library: TflmLibrary,
    toolchain: Toolchain,
    folder: Path,
    *,
    name: str,
    prefix: str,
    arena: MicroArena,
    input_quantization: TensorQuantization,
    output_quantization: TensorQuantization,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    arena_buffer_bytes: int = 512 * 1024,
    source: str = "",
    class_names: Sequence[str] | None = None,
) -> Firmware:
    """Compile and link the firmware for one int8 model, and read its costs.

    Args:
        data: The int8 .tflite file's bytes.
        library: TFLite Micro built for the core.
        toolchain: The Arm compiler and binutils.
        folder: Where to write the sources, objects, map and ``firmware.elf``.
        name: Base name of the model's C files (``<name>.h``, ``<name>.c``).
        prefix: Symbol prefix of the model's C array (``<prefix>_tflite``).
        arena: The host's arena figures, for the generated header's comment.
        input_quantization: The model input's quantization (for the header).
        output_quantization: The model output's quantization (for the header).
        mean: Per-channel normalisation mean (for the header).
        std: Per-channel normalisation standard deviation (for the header).
        arena_buffer_bytes: The arena the harness reserves.
        source: Where the model came from, for the header's comment.
        class_names: Class names for the header, in label order.

    Returns:
        The image and its flash and static RAM.

    Raises:
        McuError: For an operator TFLite Micro has no kernel for.
        FirmwareError: If a compile or the link fails.
    """
    known = set(
        re.findall(
            r"TfLiteStatus (Add\w+)\(", (library.sources.root / _RESOLVER_HEADER).read_text()
        )
    )
    calls = resolver_calls([op.name for op in tflite_ops(data)], known)
    ident = c_identifier(prefix)
    header, c_source = firmware_sources(
        data, name, arena=arena, input_quantization=input_quantization,
        output_quantization=output_quantization, mean=mean, std=std, source=source,
        symbol=ident, class_names=class_names,
    )  # fmt: skip
    (folder / f"{name}.h").write_text(header)
    (folder / f"{name}.c").write_text(c_source)
    config = _harness_config(f"{name}.h", ident, calls, arena_buffer_bytes, library.core.stack_top)
    (folder / "harness_config.h").write_text(config)
    harness = resources.files("tinyconv.mcu") / "firmware"
    for file in ("main.cc", "vectors.c"):
        (folder / file).write_text((harness / file).read_text())
    cflags = [f for f in library.cxxflags if f.startswith(_C_FLAGS)]
    platform = [f for f in cflags if f.startswith(("-m", "--specs"))]
    _run([str(toolchain.cxx), *library.cxxflags, "-O2", *library.includes, "-I.", "-c", "main.cc",
          "-o", "main.o"], folder, "compiling the harness")  # fmt: skip
    for c_file, object_file in ((f"{name}.c", "model.o"), ("vectors.c", "vectors.o")):
        _run([str(toolchain.cc), *cflags, "-std=c11", "-Os", "-I.", "-c", c_file, "-o",
              object_file], folder, f"compiling {c_file}")  # fmt: skip
    code = library.core.code_address
    _run([str(toolchain.cxx), *platform, "main.o", "model.o", "vectors.o", str(library.archive),
          "-lm", "-Wl,--gc-sections", f"-Wl,--section-start=.vectors=0x{code:x}",
          f"-Wl,-Ttext-segment=0x{code + 0x8000:x}", "-Wl,-u,tinyconv_vectors",
          "-Wl,-Map=firmware.map", "-o", "firmware.elf"],
         folder, "linking the firmware")  # fmt: skip
    elf = folder / "firmware.elf"
    sections = _sections(toolchain, elf)
    flash = {n: size for n, (kind, size, _) in sections.items() if kind != "NOBITS"}
    writable = sum(size for _, size, flags in sections.values() if "W" in flags)
    parts = flash_parts((folder / "firmware.map").read_text(), set(flash), library.archive.name)
    model_bytes = _symbol_size(toolchain, elf, f"{ident}_tflite")
    if parts["model"] < model_bytes:
        raise FirmwareError(
            f"the linker map shows less of the model than its {model_bytes:,} bytes"
        )
    parts["other"] = sum(flash.values()) - sum(parts.values())
    return Firmware(
        elf=elf,
        flash_bytes=sum(flash.values()),
        static_ram_bytes=writable - arena_buffer_bytes,
        arena_buffer_bytes=arena_buffer_bytes,
        flash_by_part=parts,
        sections=flash,
    )
