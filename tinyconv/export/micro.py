"""TFLite Micro: run a .tflite file in the microcontroller runtime and read its real arena.

The ``tflite-micro`` package is TensorFlow Lite for Microcontrollers itself, built for
the host, with its reference kernels. :func:`micro_logits` runs images through it.
:func:`micro_arena` reads the tensor arena from its ``RecordingMicroAllocator``, which
records every allocation the interpreter makes: the *head* holds the activation tensors
as its memory planner lays them out (a tensor's buffer is reused once it is dead), the
*tail* the runtime's persistent structures (tensor and node records, quantization
parameters, kernel buffers). The figures are what the runtime printed, never computed
here. They are of a 64-bit host build with reference kernels: a 32-bit device's runtime
structures are smaller, and an optimised kernel library (CMSIS-NN) may ask for scratch
buffers, so confirm on the device with its own recording allocator. Needs the
``[tflite]`` extra.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from tinyconv._extras import require
from tinyconv.export._native_output import native_output
from tinyconv.export.errors import ExportError
from tinyconv.export.litert import dequantize_output
from tinyconv.export.tflite_graph import io_quantization, quantize_input

__all__ = ["MicroArena", "micro_arena", "micro_logits", "parse_allocations"]

_HOST_ARENA = 4 << 20  # what the host interpreter is given; it records what it used
_TOTALS = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
_RECORD = re.compile(
    r"'(?P<what>[^']+)' used (?P<used>\d+) bytes with alignment overhead "
    r"\(requested (?P<requested>\d+) bytes for (?P<count>\d+) "
)


@dataclass(frozen=True)
class MicroArena:
    """The tensor arena TFLite Micro used for one model, as its recording allocator printed it.

    Args:
        total_bytes: The whole arena: the smallest ``arena_size`` the model runs with.
        activation_bytes: The head: activation tensors, as the memory planner packs them.
        runtime_bytes: The tail: the runtime's persistent structures.
        records: ``(what, used bytes, allocations)`` per kind of persistent allocation.
    """

    total_bytes: int
    activation_bytes: int
    runtime_bytes: int
    records: tuple[tuple[str, int, int], ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Return the fields as JSON-able data."""
        return {**asdict(self), "records": [list(r) for r in self.records]}


def parse_allocations(text: str) -> MicroArena:
    """Read a ``RecordingMicroAllocator`` printout (``PrintAllocations``) into a MicroArena.

    Args:
        text: What the runtime printed.

    Returns:
        The arena's figures.

    Raises:
        ExportError: If the text holds no total, head and tail lines.

    Example:
        >>> arena = parse_allocations('''[RecordingMicroAllocator] Arena allocation total 96 bytes
        ... [RecordingMicroAllocator] Arena allocation head 64 bytes
        ... [RecordingMicroAllocator] Arena allocation tail 32 bytes
        ... [RecordingMicroAllocator] 'TfLiteEvalTensor data' used 24 bytes with alignment overhead (requested 24 bytes for 2 allocations)''')
        >>> arena.total_bytes, arena.activation_bytes, arena.runtime_bytes, arena.records
        (96, 64, 32, (('TfLiteEvalTensor data', 24, 2),))
    """  # noqa: E501
    totals = {kind: int(value) for kind, value in _TOTALS.findall(text)}
    if set(totals) != {"total", "head", "tail"}:
        raise ExportError(
            "TFLite Micro printed no arena totals (expected 'Arena allocation total/head/tail' "
            f"lines from its RecordingMicroAllocator); it printed: {text.strip()[:300]!r}"
        )
    records = tuple((m["what"], int(m["used"]), int(m["count"])) for m in _RECORD.finditer(text))
    return MicroArena(totals["total"], totals["head"], totals["tail"], records)


def _interpreter(data: bytes, arena_size: int = _HOST_ARENA) -> Any:
    require("tflite_micro", "tflite")
    from tflite_micro.python.tflite_micro import runtime

    with native_output() as printed:
        try:
            return runtime.Interpreter.from_bytes(data, arena_size=arena_size)
        except RuntimeError as error:
            failure = error
    raise ExportError(
        f"TFLite Micro cannot load the model with a {arena_size:,}-byte arena: {failure}; "
        f"it printed: {' | '.join(printed.text.strip().splitlines()[:4])}"
    )


def micro_logits(
    data: bytes, images: torch.Tensor | np.ndarray, *, raw: bool = False
) -> np.ndarray:
    """Run normalised float images one at a time through a .tflite file in TFLite Micro.

    Args:
        data: The .tflite file's bytes (one input ``[1, C, H, W]``, one output).
        images: Float images ``[N, C, H, W]``, normalised as in training.
        raw: Return the output as the file gives it (int8 for an int8 file) instead of
            dequantized float logits.

    Returns:
        ``[N, num_classes]`` logits: float32, or the raw output type with ``raw``.

    Raises:
        MissingExtraError: If the ``[tflite]`` extra is not installed.
        ExportError: If TFLite Micro cannot run the model (an operator it lacks).
    """
    interpreter = _interpreter(data)
    quant_in, quant_out = io_quantization(data)
    outputs = []
    for image in quantize_input(images, quant_in):
        interpreter.set_input(image[None], 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0)[0].copy())
    stacked = np.stack(outputs) if outputs else np.zeros((0, *quant_out.shape[1:]))
    return stacked if raw else dequantize_output(stacked, quant_out)


def micro_arena(data: bytes) -> MicroArena:
    """Run one inference in TFLite Micro and read the arena its recording allocator used.

    Args:
        data: The .tflite file's bytes.

    Returns:
        The arena, as the runtime printed it.

    Raises:
        MissingExtraError: If the ``[tflite]`` extra is not installed.
        ExportError: If TFLite Micro cannot run the model or printed no arena.
    """
    interpreter = _interpreter(data)
    quant_in, _ = io_quantization(data)
    dtype = np.int8 if quant_in.dtype == "INT8" else np.float32
    interpreter.set_input(np.zeros(quant_in.shape, dtype=dtype), 0)
    interpreter.invoke()
    with native_output() as printed:
        interpreter.print_allocations()
    return parse_allocations(printed.text)
