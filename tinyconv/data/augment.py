"""Random batched augmentation: rotations, affine moves and flips, functional and Module forms.

Parameters (angles, shifts, zooms) are drawn per image on the CPU from an
optional ``torch.Generator`` and then applied on the images' device by
:func:`~tinyconv.data.warp.affine_batch`, so a seeded CPU generator gives the
same augmentation on CPU and GPU. Images are float ``[B, C, H, W]`` in
``[0, 1]``; ``fill`` is on the same scale. Angles are counter-clockwise
positive and ranges follow torchvision (``d`` means ``[-d, d]``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .warp import Interpolation, _check_images, _check_interpolation, affine_batch, rotate_batch

__all__ = [
    "RandomAffine",
    "RandomHorizontalFlip",
    "RandomRotation",
    "affine_batch",
    "random_affine",
    "random_hflip",
    "random_rotate",
    "rotate_batch",
]

DegreeRange = float | tuple[float, float]


def _degree_range(degrees: DegreeRange) -> tuple[float, float]:
    if isinstance(degrees, int | float):
        if degrees < 0:
            raise ValueError(
                f"degrees as a single number must be >= 0 (it means [-degrees, degrees]), "
                f"got {degrees}; pass a (min, max) tuple for an asymmetric range."
            )
        return -float(degrees), float(degrees)
    low, high = (float(value) for value in degrees)
    if low > high:
        raise ValueError(f"degrees range must satisfy min <= max, got ({low}, {high}).")
    return low, high


def _uniform(batch: int, low: float, high: float, generator: torch.Generator | None) -> Tensor:
    return torch.empty(batch, dtype=torch.float64).uniform_(low, high, generator=generator)


def random_rotate(
    images: Tensor,
    degrees: DegreeRange,
    *,
    fill: float = 0.0,
    generator: torch.Generator | None = None,
    interpolation: Interpolation = "nearest",
) -> Tensor:
    """Rotate each image by its own angle drawn uniformly from a range.

    Args:
        images: Float images ``[B, C, H, W]`` in ``[0, 1]``.
        degrees: ``d`` for ``[-d, d]``, or a ``(min, max)`` tuple, like torchvision.
        fill: Value of the uncovered corners.
        generator: CPU generator for the angles (``None``: torch's global RNG).
        interpolation: ``"nearest"`` or ``"bilinear"``.

    Returns:
        Rotated images, same shape, dtype and device.

    Raises:
        ValueError: If ``degrees`` is negative or its range is reversed.

    Example:
        >>> import torch
        >>> images = torch.rand(2, 1, 8, 8)
        >>> first = random_rotate(images, 30, generator=torch.Generator().manual_seed(0))
        >>> again = random_rotate(images, 30, generator=torch.Generator().manual_seed(0))
        >>> torch.equal(first, again)
        True
    """
    _check_images(images)
    low, high = _degree_range(degrees)
    angles = _uniform(len(images), low, high, generator)
    return rotate_batch(images, angles, fill=fill, interpolation=interpolation)


def random_affine(
    images: Tensor,
    degrees: DegreeRange,
    translate: tuple[float, float] | None = None,
    scale: tuple[float, float] | None = None,
    *,
    fill: float = 0.0,
    generator: torch.Generator | None = None,
    interpolation: Interpolation = "nearest",
) -> Tensor:
    """Randomly rotate, scale and shift each image, like torchvision's ``RandomAffine``.

    Shifts are whole pixels drawn from ``[-tx * W, tx * W]`` x ``[-ty * H, ty * H]``
    and rounded, as torchvision does. Angles are counter-clockwise positive.

    Args:
        images: Float images ``[B, C, H, W]`` in ``[0, 1]``.
        degrees: ``d`` for ``[-d, d]``, or a ``(min, max)`` tuple.
        translate: Maximum shift as fractions ``(tx, ty)`` of width and height.
        scale: Zoom range ``(min, max)``; ``None`` keeps the size.
        fill: Value of uncovered pixels.
        generator: CPU generator for the parameters (``None``: torch's global RNG).
        interpolation: ``"nearest"`` or ``"bilinear"``.

    Returns:
        Transformed images, same shape, dtype and device.

    Raises:
        ValueError: If a range is malformed or a fraction is outside ``[0, 1]``.

    Example:
        >>> import torch
        >>> images = torch.rand(3, 1, 28, 28)
        >>> moved = random_affine(images, 10, translate=(0.1, 0.1),
        ...                       generator=torch.Generator().manual_seed(0))
        >>> moved.shape
        torch.Size([3, 1, 28, 28])
    """
    _check_images(images)
    batch, _, height, width = images.shape
    low, high = _degree_range(degrees)
    angles = _uniform(batch, low, high, generator)
    shifts = None
    if translate is not None:
        fraction_x, fraction_y = (float(value) for value in translate)
        if not (0.0 <= fraction_x <= 1.0 and 0.0 <= fraction_y <= 1.0):
            raise ValueError(
                f"translate fractions must lie in [0, 1], got ({fraction_x}, {fraction_y})."
            )
        max_dx, max_dy = fraction_x * width, fraction_y * height
        shift_x = torch.round(_uniform(batch, -max_dx, max_dx, generator))
        shift_y = torch.round(_uniform(batch, -max_dy, max_dy, generator))
        shifts = torch.stack([shift_x, shift_y], dim=-1)
    zoom: Tensor | float = 1.0
    if scale is not None:
        scale_low, scale_high = (float(value) for value in scale)
        if not 0.0 < scale_low <= scale_high:
            raise ValueError(f"scale must be (min, max) with 0 < min <= max, got {scale}.")
        zoom = _uniform(batch, scale_low, scale_high, generator)
    return affine_batch(images, angles, shifts, zoom, fill=fill, interpolation=interpolation)


class RandomRotation(nn.Module):
    """Module form of :func:`random_rotate`; call it as ``rotation(images, generator)``.

    Args:
        degrees: ``d`` for ``[-d, d]``, or a ``(min, max)`` tuple.
        fill: Value of the uncovered corners (``[0, 1]`` scale).
        interpolation: ``"nearest"`` or ``"bilinear"``.

    Raises:
        ValueError: If ``degrees`` or ``interpolation`` is invalid.

    Shape:
        - Input: :math:`(B, C, H, W)` float images in ``[0, 1]``, and an optional
          CPU ``torch.Generator``.
        - Output: :math:`(B, C, H, W)`, same dtype and device.

    Example:
        >>> import torch
        >>> rotation = RandomRotation(15)
        >>> rotation(torch.rand(4, 1, 28, 28), torch.Generator().manual_seed(0)).shape
        torch.Size([4, 1, 28, 28])
        >>> rotation
        RandomRotation(degrees=(-15.0, 15.0), fill=0.0, interpolation='nearest')
    """

    def __init__(
        self, degrees: DegreeRange, fill: float = 0.0, interpolation: Interpolation = "nearest"
    ) -> None:
        super().__init__()
        _check_interpolation(interpolation)
        self.degrees = _degree_range(degrees)
        self.fill = float(fill)
        self.interpolation: Interpolation = interpolation

    def forward(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Rotate each image by a random angle (see :func:`random_rotate`)."""
        return random_rotate(
            images,
            self.degrees,
            fill=self.fill,
            generator=generator,
            interpolation=self.interpolation,
        )

    def extra_repr(self) -> str:
        """Describe the settings."""
        return f"degrees={self.degrees}, fill={self.fill}, interpolation={self.interpolation!r}"


class RandomAffine(nn.Module):
    """Module form of :func:`random_affine`; call it as ``affine(images, generator)``.

    Args:
        degrees: ``d`` for ``[-d, d]``, or a ``(min, max)`` tuple.
        translate: Maximum shift as fractions ``(tx, ty)`` of width and height.
        scale: Zoom range ``(min, max)``.
        fill: Value of uncovered pixels (``[0, 1]`` scale).
        interpolation: ``"nearest"`` or ``"bilinear"``.

    Raises:
        ValueError: If ``degrees`` or ``interpolation`` is invalid.

    Shape:
        - Input: :math:`(B, C, H, W)` float images in ``[0, 1]``, and an optional
          CPU ``torch.Generator``.
        - Output: :math:`(B, C, H, W)`, same dtype and device.

    Example:
        >>> import torch
        >>> affine = RandomAffine(10, translate=(0.1, 0.1))
        >>> affine(torch.rand(2, 1, 28, 28), torch.Generator().manual_seed(0)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(
        self,
        degrees: DegreeRange,
        translate: tuple[float, float] | None = None,
        scale: tuple[float, float] | None = None,
        fill: float = 0.0,
        interpolation: Interpolation = "nearest",
    ) -> None:
        super().__init__()
        _check_interpolation(interpolation)
        self.degrees = _degree_range(degrees)
        self.translate = translate
        self.scale = scale
        self.fill = float(fill)
        self.interpolation: Interpolation = interpolation

    def forward(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Apply a random affine move to each image (see :func:`random_affine`)."""
        return random_affine(
            images,
            self.degrees,
            self.translate,
            self.scale,
            fill=self.fill,
            generator=generator,
            interpolation=self.interpolation,
        )

    def extra_repr(self) -> str:
        """Describe the settings."""
        return (
            f"degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
            f"fill={self.fill}, interpolation={self.interpolation!r}"
        )


def random_hflip(
    images: Tensor, p: float = 0.5, *, generator: torch.Generator | None = None
) -> Tensor:
    """Mirror each image left-right with probability ``p``.

    Args:
        images: Float images ``[B, C, H, W]``.
        p: Probability of flipping each image, in ``[0, 1]``.
        generator: CPU generator for the coin flips.

    Returns:
        Images of the same shape, dtype and device.

    Raises:
        ValueError: If ``p`` is outside ``[0, 1]``.

    Example:
        >>> x = torch.arange(4.0).reshape(1, 1, 2, 2)
        >>> random_hflip(x, p=1.0)[0, 0].tolist()
        [[1.0, 0.0], [3.0, 2.0]]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"flip probability p must lie in [0, 1], got {p}")
    flip = torch.rand(images.shape[0], generator=generator) < p
    mask = flip.to(images.device).view(-1, 1, 1, 1)
    return torch.where(mask, images.flip(-1), images)


class RandomHorizontalFlip(nn.Module):
    """Module form of :func:`random_hflip`; call it as ``flip(images, generator)``.

    Args:
        p: Probability of flipping each image.

    Shape:
        - Input: :math:`(B, C, H, W)` float images, and an optional CPU ``torch.Generator``.
        - Output: :math:`(B, C, H, W)`, same dtype and device.

    Example:
        >>> RandomHorizontalFlip(0.5)(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 1, 28, 28])
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"flip probability p must lie in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Flip each image with probability ``p`` (see :func:`random_hflip`)."""
        return random_hflip(images, self.p, generator=generator)

    def extra_repr(self) -> str:
        """Describe the settings."""
        return f"p={self.p}"
