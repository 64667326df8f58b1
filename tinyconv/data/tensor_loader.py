"""``TensorLoader``: batches straight from tensors already on the target device.

MNIST fits in memory many times over, so there is no ``DataLoader``, no worker
process and no PIL: the whole ``uint8`` image tensor is moved to the device
once, and each batch is gathered by index, scaled to ``[0, 1]``, optionally
augmented, and normalised with the dataset's per-channel mean and std
(:meth:`~tinyconv.data.Normalization.apply`).

Determinism: the shuffle order and the augmentation randomness of an epoch are
a function of ``(seed, epoch)`` only. Each pass (``iter(loader)``) uses the
loader's current epoch and then advances it by one, so plain repeated loops see
a fresh order each time; a trainer that calls :meth:`TensorLoader.set_epoch`
before every epoch gets exactly the same batches for that epoch when resumed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from tinyconv._checks import check_int

from .image_dataset import ImageDataset

__all__ = ["Augmentation", "TensorLoader"]

Augmentation = Callable[[Tensor, torch.Generator], Tensor]
"""An augmentation takes float images in [0, 1] and a CPU generator, returns images."""

_SHUFFLE_STREAM = "shuffle"
_AUGMENT_STREAM = "augment"


def _derive_seed(seed: int, epoch: int, stream: str) -> int:
    """A 63-bit seed that depends on ``(seed, epoch, stream)`` only, on every platform."""
    digest = hashlib.blake2b(f"{seed}/{epoch}/{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


class TensorLoader:
    """Iterate over ``(images, labels)`` batches of an in-memory :class:`ImageDataset`.

    Args:
        dataset: The samples to serve.
        batch_size: Samples per batch (the last batch may be smaller unless ``drop_last``).
        shuffle: Draw a new permutation every epoch (a function of ``seed`` and the epoch).
        seed: Base seed for shuffling and augmentation.
        device: Where the data lives and the batches are produced.
        augment: Called as ``augment(images, generator)`` on float images in
            ``[0, 1]`` before normalisation; ``generator`` is a CPU generator seeded
            from ``(seed, epoch)``. ``None`` means no augmentation.
        drop_last: Skip the final incomplete batch.
        normalize: Subtract ``dataset.mean`` and divide by ``dataset.std``, per channel.
        channels_last: Return images in ``torch.channels_last`` memory format.

    Yields:
        ``(x, y)``: ``x`` float32 ``[B, C, H, W]`` and ``y`` int64 ``[B]``, both on ``device``.

    Raises:
        TypeError: If ``dataset`` is not an :class:`ImageDataset` or ``augment`` is not callable.
        ValueError: If ``batch_size`` or ``seed`` is invalid, the dataset is empty, or
            ``drop_last`` would leave no batch at all.

    Example:
        >>> import torch
        >>> data = ImageDataset(torch.full((5, 1, 2, 2), 255, dtype=torch.uint8),
        ...                     torch.tensor([0, 1, 0, 1, 0]), "toy", ("a", "b"), 0.5, 0.5)
        >>> loader = TensorLoader(data, batch_size=2, shuffle=True, seed=3)
        >>> len(loader), [len(y) for _, y in loader]
        (3, [2, 2, 1])
        >>> x, y = next(iter(loader))
        >>> x.dtype, x.shape, float(x.max())  # (1.0 - 0.5) / 0.5
        (torch.float32, torch.Size([2, 1, 2, 2]), 1.0)
    """

    def __init__(
        self,
        dataset: ImageDataset,
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        device: str | torch.device = "cpu",
        augment: Augmentation | None = None,
        drop_last: bool = False,
        normalize: bool = True,
        channels_last: bool = False,
    ) -> None:
        if not isinstance(dataset, ImageDataset):
            raise TypeError(
                f"TensorLoader needs an ImageDataset, got {type(dataset).__name__}; "
                "build one with tinyconv.data.load_dataset(...)."
            )
        if augment is not None and not callable(augment):
            raise TypeError(f"augment must be callable or None, got {type(augment).__name__}.")
        self._batch_size = check_int("batch_size", batch_size, 1)
        self._seed = check_int("seed", seed, 0)
        if len(dataset) == 0:
            raise ValueError(f"Dataset {dataset.name!r} is empty; nothing to load.")
        if drop_last and len(dataset) < batch_size:
            raise ValueError(
                f"drop_last=True with batch_size={batch_size} > {len(dataset)} samples would "
                "yield no batch; lower batch_size or set drop_last=False."
            )
        self._dataset = dataset
        self._device = torch.device(device)
        self._images = dataset.images.to(self._device)
        self._labels = dataset.labels.to(self._device)
        self._shuffle = shuffle
        self._augment = augment
        self._drop_last = drop_last
        self._normalize = normalize
        self._channels_last = channels_last
        self._normalization = dataset.normalization
        self._epoch = 0

    @property
    def dataset(self) -> ImageDataset:
        """The dataset served (on its original device)."""
        return self._dataset

    @property
    def batch_size(self) -> int:
        """Samples per full batch."""
        return self._batch_size

    @property
    def num_samples(self) -> int:
        """Samples served per epoch (fewer than ``len(dataset)`` when ``drop_last``)."""
        if self._drop_last:
            return len(self) * self._batch_size
        return len(self._dataset)

    @property
    def device(self) -> torch.device:
        """Device of the data and of every batch."""
        return self._device

    @property
    def epoch(self) -> int:
        """The epoch the next pass will use."""
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass use ``epoch`` (its order and augmentation).

        Args:
            epoch: Epoch number, ``>= 0``.

        Raises:
            ValueError: If ``epoch`` is not a non-negative int.
        """
        self._epoch = check_int("epoch", epoch, 0)

    def __len__(self) -> int:
        """Number of batches per epoch."""
        full, remainder = divmod(len(self._dataset), self._batch_size)
        return full + int(remainder > 0 and not self._drop_last)

    def _order(self, epoch: int) -> Tensor:
        if not self._shuffle:
            return torch.arange(len(self._dataset), device=self._device)
        generator = torch.Generator().manual_seed(_derive_seed(self._seed, epoch, _SHUFFLE_STREAM))
        return torch.randperm(len(self._dataset), generator=generator).to(self._device)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        epoch = self._epoch
        self._epoch += 1
        return self._batches(epoch)

    def _batches(self, epoch: int) -> Iterator[tuple[Tensor, Tensor]]:
        order = self._order(epoch)
        augment_generator = torch.Generator().manual_seed(
            _derive_seed(self._seed, epoch, _AUGMENT_STREAM)
        )
        for batch_index in range(len(self)):
            index = order[batch_index * self._batch_size : (batch_index + 1) * self._batch_size]
            images = self._images[index].to(torch.float32).div_(255.0)
            if self._augment is not None:
                images = self._augment(images, augment_generator)
            if self._normalize:
                images = self._normalization.apply(images)
            if self._channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            yield images, self._labels[index]

    def __repr__(self) -> str:
        return (
            f"TensorLoader(dataset={self._dataset.name!r}, num_samples={self.num_samples}, "
            f"batch_size={self._batch_size}, batches={len(self)}, shuffle={self._shuffle}, "
            f"seed={self._seed}, device={str(self._device)!r}, epoch={self._epoch})"
        )
