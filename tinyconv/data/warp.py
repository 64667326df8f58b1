"""Deterministic batched warps: :func:`affine_batch` and :func:`rotate_batch`.

Each image of a float batch ``[B, C, H, W]`` (values in ``[0, 1]``) gets its own
angle, scale and shift, applied with one ``F.affine_grid`` + ``F.grid_sample``
call on the images' device. The geometry is torchvision's: rotation about the
image centre, counter-clockwise for positive angles (like
``transforms.functional.rotate``), pixel-centre sampling (``align_corners=False``),
and pixels whose source lies outside the image set to ``fill`` exactly (a
coverage channel is sampled alongside the image). Note that torchvision's
``transforms.functional.affine`` counts angles clockwise; here every angle is
counter-clockwise. The random versions live in :mod:`tinyconv.data.augment`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["Interpolation", "affine_batch", "rotate_batch"]

Interpolation = Literal["nearest", "bilinear"]


def _check_images(images: Tensor) -> None:
    if not isinstance(images, Tensor) or images.ndim != 4 or not images.is_floating_point():
        got = (
            f"dtype {images.dtype} and shape {tuple(images.shape)}"
            if isinstance(images, Tensor)
            else type(images).__name__
        )
        raise TypeError(
            f"Augmentation expects a float tensor [B, C, H, W] scaled to [0, 1], got {got}; "
            "convert uint8 images with images.float() / 255."
        )


def _check_interpolation(interpolation: str) -> None:
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be 'nearest' or 'bilinear', got {interpolation!r}.")


def _per_image(values: Tensor | Sequence[float] | float, batch: int, name: str) -> Tensor:
    """Broadcast a scalar or per-image sequence to a float64 CPU tensor of shape [batch]."""
    tensor = torch.as_tensor(values, dtype=torch.float64).detach().cpu().flatten()
    if tensor.numel() == 1:
        tensor = tensor.expand(batch)
    if tensor.numel() != batch:
        raise ValueError(
            f"{name} needs one value per image or a single value: the batch has {batch} "
            f"images but {tensor.numel()} values were given."
        )
    return tensor


def affine_batch(
    images: Tensor,
    angles_deg: Tensor | Sequence[float] | float,
    translations_px: Tensor | Sequence[Sequence[float]] | None = None,
    scales: Tensor | Sequence[float] | float = 1.0,
    *,
    fill: float = 0.0,
    interpolation: Interpolation = "nearest",
) -> Tensor:
    """Rotate (counter-clockwise), scale and then shift every image about its centre.

    Args:
        images: Float images ``[B, C, H, W]`` in ``[0, 1]``.
        angles_deg: Rotation per image in degrees, counter-clockwise positive
            (one value for all images, or ``B`` values).
        translations_px: Shift per image in pixels, ``[B, 2]`` as ``(dx, dy)``
            with ``dx`` to the right and ``dy`` downwards; ``None`` for no shift.
        scales: Zoom factor per image (``> 1`` enlarges).
        fill: Value of pixels whose source lies outside the image (``[0, 1]`` scale).
        interpolation: ``"nearest"`` (pixel values are copied, never blended) or
            ``"bilinear"``.

    Returns:
        The transformed images, same shape, dtype and device.

    Raises:
        TypeError: If ``images`` is not a 4-D float tensor.
        ValueError: On a bad interpolation name, a non-positive scale, or a
            parameter count that does not match the batch.

    Example:
        >>> import torch
        >>> image = torch.zeros(1, 1, 3, 3)
        >>> image[0, 0, 0, 1] = 1.0  # a dot above the centre
        >>> affine_batch(image, 90.0)[0, 0]  # counter-clockwise: the dot moves left
        tensor([[0., 0., 0.],
                [1., 0., 0.],
                [0., 0., 0.]])
    """
    _check_images(images)
    _check_interpolation(interpolation)
    batch, channels, height, width = images.shape
    angles = torch.deg2rad(_per_image(angles_deg, batch, "angles_deg"))
    zoom = _per_image(scales, batch, "scales")
    if not bool((zoom > 0).all()):
        raise ValueError(f"scales must be > 0, got minimum {float(zoom.min())}.")
    if translations_px is None:
        shift = torch.zeros(batch, 2, dtype=torch.float64)
    else:
        shift = torch.as_tensor(translations_px, dtype=torch.float64).detach().cpu()
        if shift.shape != (batch, 2):
            raise ValueError(
                f"translations_px must have shape [B, 2] = [{batch}, 2], got {tuple(shift.shape)}."
            )
    # Output pixel -> source pixel (centre-relative pixel units, y pointing down).
    cos, sin = torch.cos(angles) / zoom, torch.sin(angles) / zoom
    inverse = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    offset = -(inverse @ shift.unsqueeze(-1)).squeeze(-1)
    # affine_grid works in [-1, 1] coordinates: x is scaled by W/2 and y by H/2.
    half_size = torch.tensor([width / 2, height / 2], dtype=torch.float64)
    theta = torch.cat(
        [
            inverse * half_size.view(1, 1, 2) / half_size.view(1, 2, 1),
            (offset / half_size).unsqueeze(-1),
        ],
        dim=-1,
    ).to(device=images.device, dtype=images.dtype)
    grid = F.affine_grid(theta, [batch, channels + 1, height, width], align_corners=False)
    coverage = torch.ones_like(images[:, :1])
    sampled = F.grid_sample(
        torch.cat([images, coverage], dim=1),
        grid,
        mode=interpolation,
        padding_mode="zeros",
        align_corners=False,
    )
    values, coverage = sampled[:, :channels], sampled[:, channels:]
    if interpolation == "nearest":
        return torch.where(coverage < 0.5, torch.full_like(values, float(fill)), values)
    # Outside taps contributed 0 to ``values``; give their weight to ``fill`` instead.
    return values + (1.0 - coverage) * float(fill)


def rotate_batch(
    images: Tensor,
    angles_deg: Tensor | Sequence[float] | float,
    *,
    fill: float = 0.0,
    interpolation: Interpolation = "nearest",
) -> Tensor:
    """Rotate every image about its centre, counter-clockwise for positive angles.

    Matches ``torchvision.transforms.functional.rotate(image, angle, fill=[fill])``
    (``expand=False``), but takes one angle per image and a whole batch at once.

    Args:
        images: Float images ``[B, C, H, W]`` in ``[0, 1]``.
        angles_deg: One angle for all images or ``B`` angles, in degrees.
        fill: Value of the uncovered corners (``[0, 1]`` scale).
        interpolation: ``"nearest"`` or ``"bilinear"``.

    Returns:
        Rotated images, same shape, dtype and device.

    Raises:
        TypeError: If ``images`` is not a 4-D float tensor.
        ValueError: On a bad interpolation or a wrong number of angles.

    Example:
        >>> import torch
        >>> image = torch.arange(4.0).view(1, 1, 2, 2) / 3
        >>> torch.equal(rotate_batch(image, [360.0]), image)
        True
    """
    return affine_batch(images, angles_deg, fill=fill, interpolation=interpolation)
