"""``int8_drop``: whether an int8 model lost accuracy, judged in images and against noise.

Both export targets (ONNX and .tflite) judge their int8 file by this one rule. A drop
in test accuracy is counted in **images**: ``lost`` test images the fp32 model gets
right and the int8 one wrong, ``gained`` the other way round. On a small test set one
image is many points (0.28 on 360 images), so a limit in points alone refuses models
that lost nothing real. The int8 file is refused only when the drop is

- more than the limit in points (``max_drop_points``, ``--max-int8-drop``),
- more than one image, and
- more than the noise of the comparison: twice the standard deviation of the paired
  difference if int8 changed nothing systematic (McNemar's: ``sqrt(lost + gained)``
  images, about 95 % of chance differences stay below it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from tinyconv.export.errors import ExportError

__all__ = ["MAX_INT8_DROP_POINTS", "Int8Drop", "check_drop_limit", "int8_drop"]

MAX_INT8_DROP_POINTS = 0.10
"""The default limit of both export targets, in percentage points."""


@dataclass(frozen=True)
class Int8Drop:
    """The int8 model's accuracy drop against fp32 on the same test images.

    Args:
        images: Test images scored.
        lost: Images fp32 gets right and int8 wrong.
        gained: Images int8 gets right and fp32 wrong.
        limit_points: The limit in percentage points (``None``: record only).

    Example:
        >>> drop = Int8Drop(images=360, lost=2, gained=1, limit_points=0.10)
        >>> drop.drop_images, round(drop.drop_points, 2), drop.refused
        (1, 0.28, False)
        >>> Int8Drop(images=10_000, lost=60, gained=10, limit_points=0.10).refused
        True
    """

    images: int
    lost: int
    gained: int
    limit_points: float | None

    @property
    def drop_images(self) -> int:
        """Net images lost (negative: int8 got more right)."""
        return self.lost - self.gained

    @property
    def drop_points(self) -> float:
        """The drop in percentage points of accuracy."""
        return 100 * self.drop_images / self.images if self.images else 0.0

    @property
    def noise_images(self) -> float:
        """Twice the standard deviation of the paired difference, in images."""
        return 2 * math.sqrt(self.lost + self.gained)

    @property
    def refused(self) -> bool:
        """Whether the drop is over the limit, over one image and over the noise."""
        return (
            self.limit_points is not None
            and self.drop_points > self.limit_points + 1e-9
            and self.drop_images > 1
            and self.drop_images > self.noise_images
        )

    def describe(self) -> str:
        """``'0.60 points (60 - 10 = 50 of 10,000 images; noise ±14.1 images)'``."""
        return (
            f"{self.drop_points:.2f} points ({self.lost} - {self.gained} = {self.drop_images} "
            f"of {self.images:,} images; noise ±{self.noise_images:.1f} images)"
        )

    def to_dict(self) -> dict[str, object]:
        """Return the counts and the verdict as JSON-able data."""
        return {
            **asdict(self),
            "drop_images": self.drop_images,
            "drop_points": self.drop_points,
            "noise_images": self.noise_images,
            "refused": self.refused,
        }


def int8_drop(
    fp32_logits: np.ndarray,
    int8_logits: np.ndarray,
    labels: np.ndarray,
    max_drop_points: float | None,
) -> Int8Drop:
    """Compare the int8 model's predictions with fp32's on the same test images.

    Args:
        fp32_logits: ``[N, K]`` logits of the fp32 model (PyTorch).
        int8_logits: ``[N, K]`` logits of the int8 file, dequantized or not.
        labels: ``[N]`` true classes.
        max_drop_points: The limit in points, or ``None`` to record only.

    Returns:
        The counts and the verdict.

    Example:
        >>> fp32 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
        >>> int8 = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> int8_drop(fp32, int8, np.array([0, 1, 1]), 0.1)
        Int8Drop(images=3, lost=1, gained=1, limit_points=0.1)
    """
    labels = np.asarray(labels)[: len(fp32_logits)]
    right32 = np.asarray(fp32_logits).argmax(1) == labels
    right8 = np.asarray(int8_logits).argmax(1) == labels
    return Int8Drop(
        images=len(labels),
        lost=int((right32 & ~right8).sum()),
        gained=int((right8 & ~right32).sum()),
        limit_points=max_drop_points,
    )


def check_drop_limit(max_drop_points: float | None) -> None:
    """Refuse a limit that is not a number of points >= 0 (``None``: record only).

    Args:
        max_drop_points: The limit given (``--max-int8-drop``).

    Raises:
        ExportError: For a negative or non-finite limit.

    Example:
        >>> check_drop_limit(-1)
        Traceback (most recent call last):
        ...
        tinyconv.export.errors.ExportError: --max-int8-drop must be a number of points >= 0, got -1
    """
    if max_drop_points is not None and not (0 <= max_drop_points < math.inf):
        raise ExportError(
            f"--max-int8-drop must be a number of points >= 0, got {max_drop_points:g}"
        )
