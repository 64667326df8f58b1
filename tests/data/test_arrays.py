from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tinyconv.data import ArraySource, DatasetNotFoundError
from tinyconv.data.errors import DatasetFormatError


def pixels(*shape: int) -> np.ndarray:
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape).astype(np.uint8)


def test_npz_and_pt_files_read_the_same_arrays(tmp_path: Path) -> None:
    images, labels = pixels(6, 5, 7), np.array([0, 1, 2, 0, 1, 2])
    np.savez(tmp_path / "train.npz", images=images, labels=labels)
    torch.save(
        {"images": torch.from_numpy(images), "labels": torch.from_numpy(labels)}, tmp_path / "t.pt"
    )
    from_npz = ArraySource(train=tmp_path / "train.npz").read("train")
    from_pt = ArraySource(train=tmp_path / "t.pt").read("train")
    assert from_npz.images.shape == (6, 1, 5, 7)
    assert torch.equal(from_npz.images, from_pt.images) and torch.equal(
        from_npz.labels, from_pt.labels
    )
    assert from_npz.class_names == ("0", "1", "2")


def test_channels_last_arrays_become_channels_first() -> None:
    images = pixels(4, 6, 5, 3)  # N H W C
    split = ArraySource(train=(images, [0, 1, 0, 1])).read("train")
    assert split.images.shape == (4, 3, 6, 5)
    assert torch.equal(split.images[2, 1], torch.from_numpy(images[2, :, :, 1]))


def test_an_ambiguous_layout_must_be_named() -> None:
    images = pixels(2, 3, 4, 3)  # both axis 1 and axis 3 could hold channels
    with pytest.raises(DatasetFormatError, match="give the layout"):
        ArraySource(train=(images, [0, 1])).read("train")
    assert ArraySource(train=(images, [0, 1]), layout="NHWC").read("train").images.shape == (
        2,
        3,
        3,
        4,
    )


@pytest.mark.parametrize(
    ("labels", "names", "match"),
    [
        ([0, 3], ("a", "b", "c"), r"labels range over \[0, 3\] but there are 3 classes"),
        ([0, -1], None, "labels must be class indices >= 0"),
        ([0.0, 1.0], None, "labels must be integer class indices"),
        ([0, 1, 1], None, r"need one label per image \(2\)"),
    ],
)
def test_bad_labels_are_each_one_clear_error(labels, names, match) -> None:
    source = ArraySource(train=(pixels(2, 4, 4), np.array(labels)), class_names=names)
    with pytest.raises(DatasetFormatError, match=match):
        source.read("train")


def test_float_images_name_the_conversion() -> None:
    with pytest.raises(DatasetFormatError, match=r"must be uint8 .*astype\(numpy.uint8\)"):
        ArraySource(train=(np.zeros((2, 4, 4), np.float32), [0, 1])).read("train")


def test_files_without_the_arrays_or_unreadable_are_named(tmp_path: Path) -> None:
    np.savez(tmp_path / "x.npz", x=pixels(2, 4, 4), y=np.array([0, 1]))
    with pytest.raises(
        DatasetFormatError, match=r"must hold the arrays 'images' and 'labels', found \['x', 'y'\]"
    ):
        ArraySource(train=tmp_path / "x.npz").read("train")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetFormatError, match=r"cannot read .*bad\.npz"):
        ArraySource(train=tmp_path / "bad.npz").read("train")
    with pytest.raises(DatasetNotFoundError, match="no array file"):
        ArraySource(train=tmp_path / "missing.npz").read("train")
