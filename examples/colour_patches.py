"""Write a small labelled image folder to try tinyconv on your own data: 32x32 RGB PNGs.

Each image is dark noise with a 12x12 square of its class's colour (blue, green, red or
yellow) at a random place: a tiny net learns the colour in a few epochs. The folder has
torchvision's ``ImageFolder`` layout and the description that registers it::

    <out>/train/<colour>/000.png ...   (--train images per class)
    <out>/test/<colour>/000.png ...    (--test images per class)
    <out>/tinyconv-dataset.json        {"name": "patches", "kind": "image_folder", ...}

Run: ``python examples/colour_patches.py data/patches``, then pass
``--dataset-dir data/patches`` to any ``tinyconv`` command (see docs/own_data.rst).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {
    "blue": (50, 60, 220),
    "green": (40, 200, 60),
    "red": (220, 40, 40),
    "yellow": (230, 220, 50),
}
"""The classes: the colour of each class's square."""


def colour_patch(rng: np.random.Generator, colour: tuple[int, int, int]) -> np.ndarray:
    """One 32x32 RGB image: dark noise with a 12x12 square of ``colour`` at a random place."""
    image = rng.integers(0, 90, (32, 32, 3)).astype(np.uint8)
    y, x = rng.integers(0, 21, 2)
    image[y : y + 12, x : x + 12] = colour
    return image


def write_colour_patches(root: Path, train: int = 100, test: int = 25, seed: int = 0) -> Path:
    """Write ``train`` and ``test`` PNGs per class under ``root`` (no description file)."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", train), ("test", test)):
        for name, colour in COLOURS.items():
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                Image.fromarray(colour_patch(rng, colour)).save(folder / f"{index:03d}.png")
    return root


def main(argv: list[str] | None = None) -> int:
    """Write the folder and its ``tinyconv-dataset.json``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to create (must not exist)")
    parser.add_argument("--train", type=int, default=100, help="training images per class")
    parser.add_argument("--test", type=int, default=25, help="test images per class")
    args = parser.parse_args(argv)
    if args.out.exists():
        parser.error(f"{args.out} exists; choose a new folder")
    write_colour_patches(args.out, args.train, args.test)
    description = {"name": "patches", "kind": "image_folder", "display_name": "Colour patches"}
    (args.out / "tinyconv-dataset.json").write_text(json.dumps(description, indent=1) + "\n")
    print(f"wrote {4 * (args.train + args.test)} PNGs and tinyconv-dataset.json to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
