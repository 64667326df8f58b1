"""Expected checksums of the raw MNIST / FashionMNIST files and a cached verifier.

The MD5s are those of the *uncompressed* IDX files in torchvision's layout
(``<root>/MNIST/raw/train-images-idx3-ubyte`` and so on). The MNIST values are
the canonical ones of the original files; the FashionMNIST values are those of
the decompressed originals of Zalando's release.

Hashing the 47 MB training images takes about 0.1 s, so :func:`file_md5`
remembers each result per ``(path, inode, size, mtime)`` for the life of the
process: loading the same split again costs one ``stat`` call. A file rewritten
in place keeping its size and its modification time (to the nanosecond) would
not be re-hashed; call :func:`clear_checksum_cache` if you do that on purpose.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import CorruptDatasetError

__all__ = [
    "RAW_FILES",
    "RawFileSpec",
    "clear_checksum_cache",
    "file_md5",
    "verify_file",
]


@dataclass(frozen=True)
class RawFileSpec:
    """One raw IDX file as it must be found on disk.

    Attributes:
        filename: File name inside ``<root>/<folder>/raw/``.
        md5: Hex MD5 of the whole (uncompressed) file.
        size: Size in bytes.

    Example:
        >>> spec = RAW_FILES["MNIST"][0]
        >>> spec.filename, spec.size
        ('train-images-idx3-ubyte', 47040016)
    """

    filename: str
    md5: str
    size: int


_TRAIN_IMAGES_BYTES = 16 + 60_000 * 28 * 28
_TEST_IMAGES_BYTES = 16 + 10_000 * 28 * 28
_TRAIN_LABELS_BYTES = 8 + 60_000
_TEST_LABELS_BYTES = 8 + 10_000

RAW_FILES: dict[str, tuple[RawFileSpec, ...]] = {
    "MNIST": (
        RawFileSpec(
            filename="train-images-idx3-ubyte",
            md5="6bbc9ace898e44ae57da46a324031adb",
            size=_TRAIN_IMAGES_BYTES,
        ),
        RawFileSpec(
            filename="train-labels-idx1-ubyte",
            md5="a25bea736e30d166cdddb491f175f624",
            size=_TRAIN_LABELS_BYTES,
        ),
        RawFileSpec(
            filename="t10k-images-idx3-ubyte",
            md5="2646ac647ad5339dbf082846283269ea",
            size=_TEST_IMAGES_BYTES,
        ),
        RawFileSpec(
            filename="t10k-labels-idx1-ubyte",
            md5="27ae3e4e09519cfbb04c329615203637",
            size=_TEST_LABELS_BYTES,
        ),
    ),
    "FashionMNIST": (
        RawFileSpec(
            filename="train-images-idx3-ubyte",
            md5="f4a8712d7a061bf5bd6d2ca38dc4d50a",
            size=_TRAIN_IMAGES_BYTES,
        ),
        RawFileSpec(
            filename="train-labels-idx1-ubyte",
            md5="9018921c3c673c538a1fc5bad174d6f9",
            size=_TRAIN_LABELS_BYTES,
        ),
        RawFileSpec(
            filename="t10k-images-idx3-ubyte",
            md5="8181f5470baa50b63fa0f6fddb340f0a",
            size=_TEST_IMAGES_BYTES,
        ),
        RawFileSpec(
            filename="t10k-labels-idx1-ubyte",
            md5="15d484375f8d13e6eb1aabb0c3f46965",
            size=_TEST_LABELS_BYTES,
        ),
    ),
}
"""Raw files per torchvision folder name (``MNIST``, ``FashionMNIST``)."""

_MD5_CACHE: dict[tuple[str, int, int, int], str] = {}


def _cache_key(path: Path) -> tuple[str, int, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)


def file_md5(path: str | os.PathLike[str]) -> str:
    """Return the hex MD5 of a file, reusing the result while the file is unchanged.

    Args:
        path: File to hash.

    Returns:
        The 32-character lowercase hex digest.

    Raises:
        FileNotFoundError: If ``path`` does not exist.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(delete=False) as handle:
        ...     _ = handle.write(b"abc")
        >>> file_md5(handle.name)
        '900150983cd24fb0d6963f7d28e17f72'
    """
    path = Path(path)
    key = _cache_key(path)
    cached = _MD5_CACHE.get(key)
    if cached is not None:
        return cached
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, lambda: hashlib.md5(usedforsecurity=False))
    _MD5_CACHE[key] = digest.hexdigest()
    return _MD5_CACHE[key]


def clear_checksum_cache() -> None:
    """Forget every MD5 remembered by :func:`file_md5`.

    Example:
        >>> clear_checksum_cache()
    """
    _MD5_CACHE.clear()


def verify_file(
    path: str | os.PathLike[str],
    expected_md5: str,
    expected_size: int | None = None,
) -> None:
    """Check that a file has the expected MD5 (and size, when given).

    Args:
        path: File to check.
        expected_md5: Expected hex MD5 (case-insensitive).
        expected_size: Expected size in bytes; ``None`` skips the size check
            (a wrong size also changes the MD5, so the check is still complete).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        CorruptDatasetError: If the MD5 or size differ; the message gives the
            file, both MD5s, both sizes and the fix.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile(delete=False) as handle:
        ...     _ = handle.write(b"abc")
        >>> verify_file(handle.name, "900150983cd24fb0d6963f7d28e17f72", expected_size=3)
        >>> verify_file(handle.name, "0" * 32)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        CorruptDatasetError: ...
    """
    path = Path(path)
    actual_md5 = file_md5(path)
    actual_size = path.stat().st_size
    md5_ok = actual_md5 == expected_md5.lower()
    size_ok = expected_size is None or actual_size == expected_size
    if md5_ok and size_ok:
        return
    expected_size_text = "unknown" if expected_size is None else f"{expected_size:,}"
    hint = " (the file looks truncated)" if expected_size and actual_size < expected_size else ""
    raise CorruptDatasetError(
        f"Corrupt dataset file {path}{hint}: expected md5 {expected_md5.lower()} and "
        f"{expected_size_text} bytes, got md5 {actual_md5} and {actual_size:,} bytes. "
        "Fix: delete the file and fetch it again (e.g. load_dataset(..., download=True) "
        "or copy an intact copy), or point TINYCONV_DATA / --data-dir at a folder "
        "holding intact files."
    )
