"""``atomic_write``: replace a file all at once, so a crash never leaves half a file behind.

The new content goes to a temporary file in the target's directory, is flushed and fsynced,
then ``os.replace`` swaps it in (atomic on POSIX and Windows). On any error the temporary
file is removed and the old file, if any, is left untouched. The file gets the permissions a
plain ``open(path, "w")`` would give it (``0o666`` less the umask), not the private ``0o600``
of a temporary file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Write a file atomically through ``write(binary_file)``.

    Args:
        path: The destination; its parent directory must exist.
        write: Called once with an open binary file to fill.

    Returns:
        The destination as a ``Path``.

    Raises:
        FileNotFoundError: If the parent directory does not exist.
        Exception: Whatever ``write`` raises; the destination is then unchanged.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "hello.txt"
        >>> atomic_write(target, lambda f: f.write(b"hi")).read_bytes()
        b'hi'
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(
            f"cannot write {str(target)!r}: directory {str(target.parent)!r} does not exist; "
            "create it first"
        )
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(target.parent)
    return target


def _umask() -> int:
    """Return the process umask (reading it means setting it, so set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
