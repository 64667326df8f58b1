"""Damage a file at many places: its header, every record of a torch zip archive, its end.

A damaged file must be refused with tinyconv's own error or load exactly what was saved;
these helpers give the offsets and write the damaged copies.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path


def archive_offsets(path: Path) -> list[int]:
    """Offsets to damage in a ``torch.save`` zip archive.

    The first bytes (local header of the first record), several places in ``data.pkl``,
    the first, middle and last byte of every record's data (each tensor), every record's
    local header, the central directory and the last byte.
    """
    data = path.read_bytes()
    offsets = {0, 4, 8, 14, 18, 26, 28}
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        for info in infos:
            start = info.header_offset
            name_len, extra_len = struct.unpack("<HH", data[start + 26 : start + 30])
            begin = start + 30 + name_len + extra_len
            offsets |= {start, start + 14, start + 30}
            if info.file_size:
                offsets |= {begin, begin + info.file_size // 2, begin + info.file_size - 1}
            if info.filename.endswith("data.pkl"):
                offsets |= set(range(begin, begin + info.file_size, max(1, info.file_size // 40)))
        central = data.rfind(b"PK\x01\x02", 0)
        offsets |= {central, central + 16, len(data) - 22, len(data) - 1}
    return sorted(offset for offset in offsets if 0 <= offset < len(data))


def spread_offsets(path: Path, count: int = 60) -> list[int]:
    """``count`` offsets spread evenly over the file, first and last byte included."""
    size = path.stat().st_size
    return sorted({round(i * (size - 1) / (count - 1)) for i in range(count)})


def damaged_copies(path: Path, offsets: list[int], folder: Path) -> Iterator[tuple[str, Path]]:
    """Yield ``(what, copy)``: a copy of ``path`` with one byte inverted per offset.

    Then copies truncated to 0, 1, half and all but one byte. Each copy is written to the
    same file in ``folder`` (keeping ``path``'s name), so use it before the next one.
    """
    data = path.read_bytes()
    target = folder / path.name
    folder.mkdir(parents=True, exist_ok=True)
    for offset in offsets:
        target.write_bytes(data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1 :])
        yield f"byte {offset} of {len(data)} inverted", target
    for size in (0, 1, len(data) // 2, len(data) - 1):
        target.write_bytes(data[:size])
        yield f"truncated to {size} of {len(data)} bytes", target
