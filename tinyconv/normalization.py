"""``Normalization``: the per-channel mean and std of ``x / 255``, the one place images are scaled.

Training (:class:`~tinyconv.data.TensorLoader`), prediction
(:func:`tinyconv.train.predict`), scoring (:func:`~tinyconv.data.score_images`) and export
all turn raw images into model inputs through :meth:`Normalization.apply`: uint8 pixels are
divided by 255, then each channel has its mean subtracted and is divided by its standard
deviation. :meth:`Normalization.from_images` computes the statistics of a training split
exactly (integer sums), and :meth:`Normalization.of_model` reads what a model records
(:attr:`tinyconv.TinyNet.normalization`). It lives in the core, beside the model that holds
it, and is re-exported as ``tinyconv.data.Normalization``.

When every channel shares one mean and one std (MNIST: 0.1307 and 0.3081), the arithmetic
uses Python numbers, exactly as tinyconv did before it knew channels, so those models train
bit for bit as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["Normalization"]

_CHUNK = 1024  # images per step of the exact statistics (bounds the int64 copy)


def _channel_values(name: str, values: Sequence[float] | float) -> tuple[float, ...]:
    items = [values] if isinstance(values, int | float) else list(values)
    if not items or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in items
    ):
        raise ValueError(
            f"normalisation {name} must be one finite number per channel, got {values!r}"
        )
    return tuple(float(v) for v in items)


@dataclass(frozen=True)
class Normalization:
    """Per-channel mean and standard deviation of ``x / 255``.

    Args:
        mean: One mean per channel (a single number is one channel's).
        std: One standard deviation per channel, each ``> 0``.

    Raises:
        ValueError: If the values are not finite, the lengths differ, or a std is not
            positive.

    Example:
        >>> norm = Normalization((0.5, 0.25, 0.0), (0.5, 0.25, 1.0))
        >>> norm.apply(torch.full((1, 3, 1, 1), 255, dtype=torch.uint8)).flatten().tolist()
        [1.0, 3.0, 1.0]
        >>> Normalization(0.1307, 0.3081).to_dict()
        {'mean': [0.1307], 'std': [0.3081]}
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    _tensors: dict[torch.device, tuple[Tensor, Tensor]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        mean = _channel_values("mean", self.mean)
        std = _channel_values("std", self.std)
        if len(mean) != len(std):
            raise ValueError(
                f"normalisation has {len(mean)} mean(s) but {len(std)} std(s); give one of "
                "each per channel"
            )
        if min(std) <= 0:
            raise ValueError(f"normalisation std must be > 0 in every channel, got {std}")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)

    @property
    def channels(self) -> int:
        """Number of channels described."""
        return len(self.mean)

    def for_channels(self, channels: int) -> Normalization:
        """Return this normalisation for ``channels`` channels.

        One value per channel is kept; a single value is repeated over the channels.

        Args:
            channels: Number of image channels.

        Returns:
            A normalisation with ``channels`` values.

        Raises:
            ValueError: If it has several values but not ``channels`` of them.

        Example:
            >>> Normalization(0.5, 0.25).for_channels(3).mean
            (0.5, 0.5, 0.5)
        """
        if self.channels == channels:
            return self
        if self.channels == 1:
            return Normalization(self.mean * channels, self.std * channels)
        raise ValueError(
            f"the normalisation has {self.channels} channels but the images have {channels}; "
            "give one mean and std per image channel"
        )

    def apply(self, images: Tensor) -> Tensor:
        """Scale raw images to ``[0, 1]`` (uint8 is divided by 255) and normalise each channel.

        Args:
            images: uint8 pixels, or float images already in ``[0, 1]``, shaped
                ``[N, C, H, W]`` with ``C`` equal to :attr:`channels` (or any ``C`` when
                one value is shared by all channels).

        Returns:
            float32 images of the same shape, on the same device.

        Raises:
            ValueError: If the images are not 4-D or their channels do not match.

        Example:
            >>> Normalization(0.5, 0.5).apply(torch.tensor([[[[0, 255]]]], dtype=torch.uint8))
            tensor([[[[-1.,  1.]]]])
        """
        if images.dim() != 4:
            raise ValueError(f"images must be shaped [N, C, H, W], got {tuple(images.shape)}")
        scaled = images.to(torch.float32).div_(255.0) if images.dtype == torch.uint8 else images
        scaled = scaled.to(torch.float32)
        if len(set(self.mean)) == 1 and len(set(self.std)) == 1:
            return (scaled - self.mean[0]) / self.std[0]
        if images.shape[1] != self.channels:
            raise ValueError(
                f"the images have {images.shape[1]} channel(s) but the normalisation has "
                f"{self.channels}; use images of the model's dataset"
            )
        if images.device not in self._tensors:  # made once per device, not per batch
            shape = (1, self.channels, 1, 1)
            self._tensors[images.device] = (
                torch.tensor(self.mean, dtype=torch.float32).view(shape).to(images.device),
                torch.tensor(self.std, dtype=torch.float32).view(shape).to(images.device),
            )
        mean, std = self._tensors[images.device]
        return (scaled - mean) / std

    def to_dict(self) -> dict[str, list[float]]:
        """Return ``{"mean": [...], "std": [...]}``, as a model file records it."""
        return {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Normalization:
        """Rebuild from :meth:`to_dict` output.

        Args:
            data: A mapping with ``mean`` and ``std`` lists.

        Returns:
            The normalisation.

        Raises:
            ValueError: If a key is missing or a value is malformed.

        Example:
            >>> Normalization.from_dict({"mean": [0.5], "std": [0.25]}).std
            (0.25,)
        """
        if not isinstance(data, Mapping) or "mean" not in data or "std" not in data:
            raise ValueError(f"a normalisation needs 'mean' and 'std', got {data!r}")
        return cls(data["mean"], data["std"])

    @classmethod
    def of_model(cls, model: nn.Module) -> Normalization | None:
        """Return the normalisation a model records (a loaded model file has one), else ``None``.

        Args:
            model: Any module; a :class:`~tinyconv.TinyNet` keeps it in ``normalization``.

        Returns:
            The recorded normalisation, or ``None``.

        Example:
            >>> Normalization.of_model(nn.Identity()) is None
            True
        """
        recorded = getattr(getattr(model, "_orig_mod", model), "normalization", None)
        if recorded is None or isinstance(recorded, Normalization):
            return recorded
        return cls.from_dict(recorded) if recorded else None

    @classmethod
    def from_images(cls, images: Tensor) -> Normalization:
        """Compute each channel's mean and (population) standard deviation of ``images / 255``.

        The sums are exact (int64), so the result does not depend on the number of images
        or their order beyond float rounding of the final division.

        Args:
            images: uint8 pixels ``[N, C, H, W]``, at least one image.

        Returns:
            The statistics.

        Raises:
            ValueError: If the images are not uint8 ``[N, C, H, W]``, are empty, or a channel
                is constant (its std would be 0).

        Example:
            >>> images = torch.tensor([[[[0, 255]], [[0, 51]]]], dtype=torch.uint8)
            >>> Normalization.from_images(images)
            Normalization(mean=(0.5, 0.1), std=(0.5, 0.1))
        """
        if images.dtype != torch.uint8 or images.dim() != 4 or len(images) == 0:
            raise ValueError(
                f"statistics need uint8 images [N, C, H, W] with N >= 1, got dtype "
                f"{images.dtype} and shape {tuple(images.shape)}"
            )
        channels = images.shape[1]
        total = [0] * channels
        squares = [0] * channels
        for chunk in images.split(_CHUNK):
            wide = chunk.to(torch.int64)
            total = [
                t + int(s) for t, s in zip(total, wide.sum(dim=(0, 2, 3)).tolist(), strict=True)
            ]
            squares = [
                q + int(s)
                for q, s in zip(squares, (wide * wide).sum(dim=(0, 2, 3)).tolist(), strict=True)
            ]
        count = images.numel() // channels
        means, stds = [], []
        for channel in range(channels):
            variance = (count * squares[channel] - total[channel] ** 2) / (count**2 * 255**2)
            mean = total[channel] / (count * 255)
            if variance <= 0:
                raise ValueError(
                    f"channel {channel} of the images is constant (mean {mean:.4g}): it cannot "
                    "be normalised; drop the channel or give mean and std yourself"
                )
            means.append(mean)
            stds.append(math.sqrt(variance))
        return cls(tuple(means), tuple(stds))
