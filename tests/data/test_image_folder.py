from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from own_data import COLOURS, write_colour_patches
from PIL import Image

from tinyconv.data import DatasetNotFoundError, ImageFolderSource
from tinyconv.data.errors import DatasetFormatError


def save(path: Path, pixels: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode=mode).save(path)


def test_rgb_pngs_decode_to_the_pixels_written(tmp_path: Path) -> None:
    root = write_colour_patches(tmp_path, train=3, test=2)
    source = ImageFolderSource(root)
    split = source.read("train")
    assert source.splits() == ("train", "test")
    assert split.images.shape == (12, 3, 32, 32) and split.images.dtype == torch.uint8
    assert split.class_names == tuple(sorted(COLOURS))
    # classes interleaved: the first file of each class, then the second of each, ...
    assert split.labels.tolist() == [0, 1, 2, 3] * 3
    first_red = np.array(Image.open(root / "train" / "red" / "000.png"))
    assert torch.equal(split.images[2], torch.from_numpy(first_red).permute(2, 0, 1))


def test_grayscale_stays_one_channel_and_channels_converts(tmp_path: Path) -> None:
    for label in ("a", "b"):
        save(tmp_path / "train" / label / "x.png", np.full((6, 5), 200, np.uint8), "L")
    assert ImageFolderSource(tmp_path).read("train").images.shape == (2, 1, 6, 5)
    rgb = ImageFolderSource(tmp_path, channels=3).read("train").images
    assert rgb.shape == (2, 3, 6, 5) and bool((rgb == 200).all())


def test_a_mix_of_gray_and_colour_images_is_refused_naming_the_odd_files(tmp_path: Path) -> None:
    for index in range(3):
        save(tmp_path / "train" / "a" / f"gray{index}.png", np.full((4, 4), 9, np.uint8), "L")
    save(tmp_path / "train" / "b" / "rgb.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(
        DatasetFormatError,
        match=r"train images mix grayscale and colour: 1 colour file\(s\) among 3 grayscale "
        r"ones \(.*rgb\.png\); .*\"channels\": 1 \(grayscale\) or 3",
    ):
        ImageFolderSource(tmp_path).read("train")
    images = ImageFolderSource(tmp_path, channels=3).read("train").images  # said deliberately
    assert images.shape == (4, 3, 4, 4) and bool((images[0] == 9).all())


def test_mixed_sizes_name_both_files(tmp_path: Path) -> None:
    save(tmp_path / "train" / "a" / "small.png", np.zeros((8, 8, 3), np.uint8))
    save(tmp_path / "train" / "b" / "wide.png", np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(
        DatasetFormatError, match=r"differ in size: .*wide\.png is 9x8 .*small\.png"
    ):
        ImageFolderSource(tmp_path).read("train")


def test_an_unreadable_image_is_named(tmp_path: Path) -> None:
    save(tmp_path / "train" / "a" / "good.png", np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "train" / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DatasetFormatError, match=r"cannot decode image .*broken\.png"):
        ImageFolderSource(tmp_path).read("train")


def test_a_class_folder_without_images_is_refused(tmp_path: Path) -> None:
    save(tmp_path / "train" / "a" / "x.png", np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "train" / "empty").mkdir()
    (tmp_path / "train" / "empty" / "notes.txt").write_text("not an image")
    with pytest.raises(DatasetFormatError, match=r"class folder .*empty holds no images"):
        ImageFolderSource(tmp_path).read("train")


def test_hidden_and_non_image_files_are_ignored(tmp_path: Path) -> None:
    save(tmp_path / "train" / "a" / "x.png", np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "train" / "a" / ".DS_Store").write_bytes(b"junk")
    (tmp_path / "train" / "a" / "README.txt").write_text("about these images")
    assert len(ImageFolderSource(tmp_path).read("train").labels) == 1


def test_the_test_split_uses_the_training_classes(tmp_path: Path) -> None:
    for label in ("a", "b", "c"):
        save(tmp_path / "train" / label / "x.png", np.zeros((4, 4, 3), np.uint8))
    save(tmp_path / "test" / "c" / "y.png", np.zeros((4, 4, 3), np.uint8))
    test = ImageFolderSource(tmp_path).read("test")
    assert test.labels.tolist() == [2] and test.class_names == ("a", "b", "c")
    save(tmp_path / "test" / "d" / "z.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(DatasetFormatError, match=r"folders \['d'\] that are not among"):
        ImageFolderSource(tmp_path).read("test")


def test_given_class_names_set_the_label_order(tmp_path: Path) -> None:
    for label in ("cat", "dog"):
        save(tmp_path / "train" / label / "x.png", np.zeros((4, 4, 3), np.uint8))
    split = ImageFolderSource(tmp_path, class_names=("dog", "cat")).read("train")
    assert split.class_names == ("dog", "cat") and split.labels.tolist() == [0, 1]
    assert split.images.shape[0] == 2
    with pytest.raises(DatasetFormatError, match="class 'bird' has no folder"):
        ImageFolderSource(tmp_path, class_names=("dog", "cat", "bird")).read("train")


def test_missing_folders_say_where_images_go(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"no train folder at .*train/<class name>"):
        ImageFolderSource(tmp_path).read("train")
    save(tmp_path / "train" / "a" / "x.png", np.zeros((4, 4, 3), np.uint8))
    assert ImageFolderSource(tmp_path).splits() == ("train",)
    with pytest.raises(DatasetNotFoundError, match="no test folder"):
        ImageFolderSource(tmp_path).read("test")


def test_grayscale_with_alpha_stays_one_channel(tmp_path: Path) -> None:
    pixels = np.stack([np.full((4, 4), 90, np.uint8), np.full((4, 4), 255, np.uint8)], axis=-1)
    save(tmp_path / "train" / "a" / "x.png", pixels, "LA")
    images = ImageFolderSource(tmp_path).read("train").images
    assert images.shape == (1, 1, 4, 4) and bool((images == 90).all())
