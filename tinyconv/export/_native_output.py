"""``native_output``: capture what native libraries print to the process's stdout and stderr.

The LiteRT converter and the TFLite Micro runtime are C++ libraries that print straight
to file descriptors 1 and 2, past ``sys.stdout``; TFLite Micro's recording allocator
reports the arena only that way. This context manager points both descriptors at a
temporary file while its block runs, and hands the text back afterwards.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

__all__ = ["NativeOutput", "native_output"]


class NativeOutput:
    """The text printed inside :func:`native_output`'s block; ``text`` is set on exit."""

    text: str = ""


@contextlib.contextmanager
def native_output() -> Iterator[NativeOutput]:
    r"""Capture file descriptors 1 and 2 (C and C++ output included) while the block runs.

    Yields:
        A :class:`NativeOutput` whose ``text`` holds everything printed, once the block
        has ended (also when it raised).

    Example:
        >>> with native_output() as out:
        ...     _ = os.write(2, b"from C++\n")
        >>> out.text
        'from C++\n'
    """
    result = NativeOutput()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as capture:
        try:
            os.dup2(capture.fileno(), 1)
            os.dup2(capture.fileno(), 2)
            yield result
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            capture.seek(0)
            result.text = capture.read().decode("utf-8", errors="replace")
