"""``ImageFolderSource``: labelled images in torchvision's ``ImageFolder`` layout, decoded once.

The layout::

    <root>/train/<class>/*.png     (or .jpg, .jpeg, .bmp, .gif, .tif, .tiff, .webp, .pgm, .ppm)
    <root>/test/<class>/*.png      (optional)

Class names are the training split's folder names, sorted (as torchvision does), unless
given. Every image is decoded with Pillow into one ``uint8`` tensor; all must have one
size. Within a split the classes are interleaved (each class's first file by name, then
each class's second, ...), so the first N images hold every class.

Without ``channels``, a folder of 8-bit grayscale images (Pillow modes ``1``, ``L``,
``LA``) gives one channel and a folder of colour images three (alpha channels are
dropped); a split that mixes the two is refused, naming the odd files, never converted
behind your back; ``channels=1`` or ``3`` converts every image. 16-bit and
floating-point images are refused (save them as 8-bit first). Files with other
extensions and hidden files are ignored; a file with an image extension that cannot be
decoded, a class folder without images and mixed sizes are each one
:class:`~tinyconv.data.errors.DatasetFormatError` naming the file and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import DatasetFormatError, DatasetNotFoundError
from .source import RawSplit

__all__ = ["IMAGE_EXTENSIONS", "ImageFolderSource"]

IMAGE_EXTENSIONS = (
    ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm",
)  # fmt: skip
"""File extensions read as images (case-insensitive)."""

_GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F")


def _class_folders(split_dir: Path) -> list[Path]:
    return sorted(
        (
            entry
            for entry in split_dir.iterdir()
            if entry.is_dir() and not entry.name.startswith(".")
        ),
        key=lambda entry: entry.name,
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        entry
        for entry in folder.iterdir()
        if entry.is_file()
        and not entry.name.startswith(".")
        and entry.suffix.lower() in IMAGE_EXTENSIONS
    )


def _decode(path: Path, channels: int | None) -> tuple[torch.Tensor, str]:
    """Decode one image to ``uint8`` ``[H, W, C]`` (C 1 or 3) and return its Pillow mode."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            mode = image.mode
            if channels == 1 or (channels is None and mode in _GRAY_MODES):
                if mode.startswith("I") or mode == "F":
                    raise DatasetFormatError(
                        f"{path}: {mode!r} images hold more than 8 bits per pixel; save them "
                        "as 8-bit grayscale (mode 'L') or RGB"
                    )
                converted = image.convert("L")
            else:
                converted = image.convert("RGB")
            pixels = np.asarray(converted, dtype=np.uint8)
    except DatasetFormatError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise DatasetFormatError(
            f"cannot decode image {path} ({type(error).__name__}: {error}); replace or "
            "delete the file"
        ) from error
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return torch.from_numpy(pixels.copy()), mode


def _check_one_kind(split: str, paths: list[Path], modes: list[str]) -> None:
    """Refuse a split that mixes grayscale and colour files, naming the odd ones.

    Converting them all silently (one RGB file turned a whole grayscale dataset into
    3 channels) hides a mistake; the description's ``channels`` says which is meant.
    """
    gray = [path for path, mode in zip(paths, modes, strict=True) if mode in _GRAY_MODES]
    colour = [path for path, mode in zip(paths, modes, strict=True) if mode not in _GRAY_MODES]
    if gray and colour:
        odd, kind, most = (colour, "colour", "grayscale") if len(gray) >= len(colour) else (
            gray, "grayscale", "colour")  # fmt: skip
        shown = ", ".join(str(path) for path in odd[:3])
        more = f" and {len(odd) - 3} more" if len(odd) > 3 else ""
        raise DatasetFormatError(
            f"the {split} images mix grayscale and colour: {len(odd)} {kind} file(s) among "
            f"{len(paths) - len(odd)} {most} ones ({shown}{more}); convert them, or set "
            '"channels": 1 (grayscale) or 3 (RGB) in tinyconv-dataset.json to convert every '
            "image"
        )


@dataclass(frozen=True)
class ImageFolderSource:
    """A folder of labelled images, one subfolder per split and per class.

    Args:
        root: The folder holding ``train/`` (and ``test/``).
        class_names: Class folder names in label order; default: the training split's
            folder names, sorted.
        channels: ``1`` (grayscale) or ``3`` (RGB) to convert every image; ``None``
            keeps grayscale folders grayscale and reads the rest as RGB.
        train: Name of the training split's folder.
        test: Name of the test split's folder.

    Example:
        >>> import tempfile
        >>> from PIL import Image
        >>> root = Path(tempfile.mkdtemp())
        >>> for label in ("cat", "dog"):
        ...     (root / "train" / label).mkdir(parents=True)
        ...     Image.new("RGB", (8, 6), "red").save(root / "train" / label / "a.png")
        >>> split = ImageFolderSource(root).read("train")
        >>> split.images.shape, split.labels.tolist(), split.class_names
        (torch.Size([2, 3, 6, 8]), [0, 1], ('cat', 'dog'))
    """

    root: Path
    class_names: tuple[str, ...] | None = None
    channels: int | None = None
    train: str = "train"
    test: str = "test"

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())
        if self.channels not in (None, 1, 3):
            raise DatasetFormatError(
                f"channels must be 1 (grayscale), 3 (RGB) or None, got {self.channels!r}"
            )
        if self.class_names is not None:
            object.__setattr__(self, "class_names", tuple(str(n) for n in self.class_names))

    def _split_dir(self, split: str) -> Path:
        return self.root / (self.train if split == "train" else self.test)

    def splits(self) -> tuple[str, ...]:
        """Return the splits whose folder exists (``train`` is always listed)."""
        return ("train", "test") if self._split_dir("test").is_dir() else ("train",)

    def _classes(self, split_dir: Path) -> tuple[str, ...]:
        """The class names (the training folders' unless given), checked against ``split_dir``."""
        names = self.class_names
        if names is None:
            train_dir = self._split_dir("train")
            if not train_dir.is_dir():
                raise DatasetNotFoundError(
                    f"no train folder at {train_dir}; an image folder dataset keeps its "
                    f"training images in {train_dir}/<class name>/*.png"
                )
            names = tuple(folder.name for folder in _class_folders(train_dir))
            if not names:
                raise DatasetFormatError(
                    f"{train_dir} holds no class folders; put each class's images in "
                    f"{train_dir}/<class name>/"
                )
        unknown = sorted({folder.name for folder in _class_folders(split_dir)} - set(names))
        if unknown:
            raise DatasetFormatError(
                f"{split_dir} has folders {unknown} that are not among the class names "
                f"{list(names)}; rename them or add them to the class names"
            )
        return names

    def read(self, split: str) -> RawSplit:
        """Decode every image of one split.

        Args:
            split: ``"train"`` or ``"test"``.

        Returns:
            The images ``[N, C, H, W]``, labels and the class names.

        Raises:
            DatasetNotFoundError: If the split's folder does not exist.
            DatasetFormatError: For a class folder without images, an image that cannot be
                decoded, images of different sizes, or folders that are not classes.
        """
        split_dir = self._split_dir(split)
        if not split_dir.is_dir():
            raise DatasetNotFoundError(
                f"no {split} folder at {split_dir}; an image folder dataset keeps its "
                f"{split} images in {split_dir}/<class name>/*.png"
            )
        class_names = self._classes(split_dir)
        per_class: list[list[tuple[Path, int]]] = []
        for label, name in enumerate(class_names):
            folder = split_dir / name
            if not folder.is_dir():
                if split == "train":
                    raise DatasetFormatError(
                        f"class {name!r} has no folder {folder}; every class needs training images"
                    )
                continue
            images = _image_files(folder)
            if not images:
                raise DatasetFormatError(
                    f"class folder {folder} holds no images (extensions: "
                    f"{', '.join(IMAGE_EXTENSIONS)}); add images or remove the folder"
                )
            per_class.append([(path, label) for path in images])
        # Classes interleaved (the first file of each class, then the second, ...), so the
        # first N images (a --train-subset, int8 calibration) hold every class.
        longest = max((len(items) for items in per_class), default=0)
        files = [items[rank] for rank in range(longest) for items in per_class if rank < len(items)]
        if not files:
            raise DatasetFormatError(
                f"{split_dir} holds no class folders with images; put them in "
                f"{split_dir}/<class name>/"
            )
        decoded = [_decode(path, self.channels) for path, _ in files]
        if self.channels is None:
            _check_one_kind(split, [path for path, _ in files], [mode for _, mode in decoded])
        first_path, first = files[0][0], decoded[0][0]
        for (path, _), (pixels, _) in zip(files, decoded, strict=True):
            if pixels.shape != first.shape:
                raise DatasetFormatError(
                    f"images differ in size: {path} is {pixels.shape[1]}x{pixels.shape[0]} "
                    f"but {first_path} is {first.shape[1]}x{first.shape[0]} (width x height); "
                    "resize every image to one size first"
                )
        images = torch.stack([pixels for pixels, _ in decoded]).permute(0, 3, 1, 2).contiguous()
        labels = torch.tensor([label for _, label in files], dtype=torch.int64)
        return RawSplit(images, labels, class_names)
