from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tinyconv.data.checksums import RAW_FILES, clear_checksum_cache, file_md5, verify_file
from tinyconv.data.errors import CorruptDatasetError


def write(path: Path, payload: bytes) -> Path:
    path.write_bytes(payload)
    return path


def test_file_md5_matches_hashlib(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 1000
    path = write(tmp_path / "blob", payload)
    assert file_md5(path) == hashlib.md5(payload).hexdigest()


def test_verify_file_accepts_matching_md5_and_size(tmp_path: Path) -> None:
    path = write(tmp_path / "blob", b"tinyconv")
    expected = hashlib.md5(b"tinyconv").hexdigest()
    verify_file(path, expected.upper(), expected_size=8)


def test_verify_file_message_names_file_both_md5s_sizes_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "train-images-idx3-ubyte", b"abc")
    with pytest.raises(CorruptDatasetError) as caught:
        verify_file(path, "0" * 32, expected_size=10)
    message = str(caught.value)
    assert str(path) in message
    assert "0" * 32 in message
    assert "900150983cd24fb0d6963f7d28e17f72" in message  # md5("abc")
    assert "10 bytes" in message and "3 bytes" in message
    assert "truncated" in message
    assert "TINYCONV_DATA" in message and "fetch it again" in message


def test_wrong_size_alone_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "blob", b"abc")
    with pytest.raises(CorruptDatasetError, match="got md5 900150983cd24fb0d6963f7d28e17f72"):
        verify_file(path, "900150983cd24fb0d6963f7d28e17f72", expected_size=4)


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        verify_file(tmp_path / "absent", "0" * 32)


def test_cache_sees_a_rewritten_file(tmp_path: Path) -> None:
    path = write(tmp_path / "blob", b"first")
    verify_file(path, hashlib.md5(b"first").hexdigest())
    stat = path.stat()
    write(path, b"other")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with pytest.raises(CorruptDatasetError):
        verify_file(path, hashlib.md5(b"first").hexdigest())
    verify_file(path, hashlib.md5(b"other").hexdigest())


def test_cache_is_keyed_on_metadata_and_can_be_cleared(tmp_path: Path) -> None:
    path = write(tmp_path / "blob", b"first")
    stat = path.stat()
    assert file_md5(path) == hashlib.md5(b"first").hexdigest()
    write(path, b"other")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    assert file_md5(path) == hashlib.md5(b"first").hexdigest()  # documented limitation
    clear_checksum_cache()
    assert file_md5(path) == hashlib.md5(b"other").hexdigest()


def test_raw_file_table_is_complete_and_consistent() -> None:
    assert set(RAW_FILES) == {"MNIST", "FashionMNIST"}
    for specs in RAW_FILES.values():
        assert [spec.filename for spec in specs] == [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ]
        assert [spec.size for spec in specs] == [47_040_016, 60_008, 7_840_016, 10_008]
        assert all(len(spec.md5) == 32 and int(spec.md5, 16) >= 0 for spec in specs)
    assert RAW_FILES["MNIST"][0].md5 == "6bbc9ace898e44ae57da46a324031adb"  # canonical


@pytest.mark.mnist
def test_raw_file_table_matches_md5sums_and_sizes_on_disk(mnist_root: Path) -> None:
    md5sums_path = mnist_root / "MD5SUMS"
    if not md5sums_path.is_file():
        pytest.skip(f"{md5sums_path} absent")
    listed = dict(
        reversed(line.split()) for line in md5sums_path.read_text().splitlines() if line.strip()
    )
    for folder, specs in RAW_FILES.items():
        for spec in specs:
            relative = f"{folder}/raw/{spec.filename}"
            assert listed[relative] == spec.md5
            path = mnist_root / relative
            if path.is_file():
                assert path.stat().st_size == spec.size
