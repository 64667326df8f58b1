"""Random crops with padding: shift each image by whole pixels, filling the uncovered border.

``random_crop(images, padding)`` is torchvision's ``RandomCrop(size, padding=padding)``
on a batch: each image is padded by ``padding`` pixels of ``fill`` on every side and a
window of its own size is cut at a random offset. The offsets are drawn per image on the
CPU from an optional ``torch.Generator`` and applied on the images' device by indexing,
so a seeded CPU generator gives the same crops on CPU and GPU, for any number of channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .warp import _check_images

__all__ = ["RandomCrop", "random_crop"]


def random_crop(
    images: Tensor, padding: int, *, fill: float = 0.0, generator: torch.Generator | None = None
) -> Tensor:
    """Pad each image by ``padding`` pixels and crop it back to its size at a random offset.

    Args:
        images: Float images ``[B, C, H, W]`` in ``[0, 1]``.
        padding: Pixels added on every side, ``>= 0``; shifts lie in ``[-padding, padding]``.
        fill: Value of the padded pixels, in every channel.
        generator: CPU generator for the offsets (``None``: torch's global RNG).

    Returns:
        Cropped images, same shape, dtype and device.

    Raises:
        ValueError: If ``padding`` is negative or not an int.

    Example:
        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> out = random_crop(x, 1, generator=torch.Generator().manual_seed(0))
        >>> out.shape, bool(torch.isin(out, torch.cat([x.flatten(), torch.zeros(1)])).all())
        (torch.Size([1, 1, 3, 3]), True)
    """
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    _check_images(images)
    if padding == 0:
        return images
    batch, channels, height, width = images.shape
    padded = F.pad(images, (padding, padding, padding, padding), value=fill)
    offsets = torch.randint(0, 2 * padding + 1, (2, batch), generator=generator)
    offsets = offsets.to(images.device)
    rows = offsets[0][:, None] + torch.arange(height, device=images.device)  # b h
    cols = offsets[1][:, None] + torch.arange(width, device=images.device)  # b w
    index_b = torch.arange(batch, device=images.device)[:, None, None, None]
    index_c = torch.arange(channels, device=images.device)[None, :, None, None]
    return padded[index_b, index_c, rows[:, None, :, None], cols[:, None, None, :]]


class RandomCrop(nn.Module):
    """Module form of :func:`random_crop`; call it as ``crop(images, generator)``.

    Args:
        padding: Pixels added on every side before cropping.
        fill: Value of the padded pixels (``[0, 1]`` scale).

    Raises:
        ValueError: If ``padding`` is negative or not an int.

    Shape:
        - Input: :math:`(B, C, H, W)` float images, and an optional CPU ``torch.Generator``.
        - Output: :math:`(B, C, H, W)`, same dtype and device.

    Example:
        >>> RandomCrop(4)(torch.rand(2, 3, 32, 32), torch.Generator().manual_seed(0)).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(self, padding: int, fill: float = 0.0) -> None:
        super().__init__()
        if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
            raise ValueError(f"padding must be an int >= 0, got {padding!r}")
        self.padding = padding
        self.fill = float(fill)

    def forward(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Crop each image at a random offset (see :func:`random_crop`)."""
        return random_crop(images, self.padding, fill=self.fill, generator=generator)

    def extra_repr(self) -> str:
        """Describe the settings."""
        return f"padding={self.padding}, fill={self.fill}"
