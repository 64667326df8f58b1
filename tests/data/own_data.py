"""Datasets the tests write to disk: image folders of PNGs and their descriptions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PIL import Image

from tinyconv.data import ImageDataset
from tinyconv.data.description import DESCRIPTION_FILE

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples"))  # the example that writes the colour patches

from colour_patches import COLOURS, write_colour_patches  # noqa: E402

__all__ = [
    "COLOURS",
    "assert_one_line_error",
    "describe",
    "tinyconv_command",
    "tinyconv_commands",
    "write_colour_patches",
    "write_digits",
]


def write_digits(root: Path, train: ImageDataset, test: ImageDataset, per_class: int) -> Path:
    """Real MNIST digits as grayscale PNGs, ``per_class`` per digit and split (the first ones)."""
    for split, data in (("train", train), ("test", test)):
        for digit in range(10):
            folder = root / split / str(digit)
            folder.mkdir(parents=True, exist_ok=True)
            chosen = (data.labels == digit).nonzero().flatten()[:per_class]
            for index in chosen.tolist():
                pixels = data.images[index, 0].numpy()
                Image.fromarray(pixels, mode="L").save(folder / f"{index:05d}.png")
    return root


def describe(root: Path, **facts: Any) -> Path:
    """Write ``root/tinyconv-dataset.json`` holding ``facts``; return the folder."""
    (root / DESCRIPTION_FILE).write_text(json.dumps(facts))
    return root


def tinyconv_command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m tinyconv ARGS`` in a fresh process (one torch thread)."""
    return subprocess.run(
        [sys.executable, "-m", "tinyconv", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        timeout=600,
    )


def tinyconv_commands(*argvs: list[str]) -> list[tuple[int, str]]:
    """Run ``tinyconv`` once per argv in one fresh process; return (status, stderr) each."""
    code = (
        "import contextlib, io, json, sys\nfrom tinyconv.cli import main\nresults = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    err = io.StringIO()\n"
        "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):\n"
        "        results.append([main(argv), err.getvalue()])\n"
        "print(json.dumps(results))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argvs)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return [tuple(item) for item in json.loads(result.stdout.splitlines()[-1])]


def assert_one_line_error(result: tuple[int, str], *needles: str) -> None:
    """Exit status 2 and one ``error:`` line holding every needle."""
    status, stderr = result
    assert status == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
