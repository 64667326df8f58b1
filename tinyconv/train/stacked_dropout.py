"""Dropout for stacked models: each seed's masks from its own random stream.

A separate run of seed ``s`` seeds the global generator with ``s`` and draws only its dropout
masks from it, layer by layer in forward order. :class:`DropoutStreams` keeps one generator
state per seed (starting from what ``torch.manual_seed(s)`` gives) and swaps it in around that
seed's share of each :class:`StackedDropout`, so a stacked seed draws the masks of its separate
run. Without streams, :class:`StackedDropout` is plain dropout over all channels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from tinyconv.train.hash_dropout import DROPOUT_MASKS, DropoutMasks, plain_or_hash_dropout


class DropoutStreams:
    """One random stream per seed, shared by every :class:`StackedDropout` of a network.

    A separate run of seed ``s`` seeds the global generator with ``s`` and draws only its
    dropout masks from it, layer by layer in forward order. Each stream starts from the
    state ``torch.manual_seed(s)`` gives and is swapped in around that seed's mask, so the
    masks equal those of the separate run.

    Args:
        seeds: One seed per stacked model, in stacking order.
    """

    def __init__(self, seeds: Sequence[int]) -> None:
        self.seeds = tuple(int(seed) for seed in seeds)
        self._device: torch.device | None = None
        self._states: list[Tensor] = []

    @contextmanager
    def use(self, index: int, device: torch.device) -> Iterator[None]:
        """Make seed ``index``'s stream the global generator of ``device`` inside the block."""
        if self._device != device:
            self._states = [_seeded_state(seed, device) for seed in self.seeds]
            self._device = device
        saved = _get_state(device)
        _set_state(device, self._states[index])
        try:
            yield
        finally:
            self._states[index] = _get_state(device)
            _set_state(device, saved)

    def state_dict(self) -> dict[str, object]:
        """Every stream's generator state, for a checkpoint (``None`` before the first draw)."""
        states = [state.cpu() for state in self._states] if self._device is not None else None
        return {"seeds": list(self.seeds), "states": states}

    def load_state_dict(self, state: dict[str, object], device: torch.device) -> None:
        """Continue the streams of :meth:`state_dict` on ``device``.

        Raises:
            ValueError: If the state belongs to other seeds.
        """
        if list(state["seeds"]) != list(self.seeds):  # type: ignore[call-overload]
            raise ValueError(f"dropout streams of seeds {state['seeds']}, not {list(self.seeds)}")
        states = state["states"]
        if states is None:
            self._device, self._states = None, []
        else:
            self._device = torch.device(device)
            self._states = [s.cpu() for s in states]  # type: ignore[union-attr]  # CPU bytes


class StackedDropout(nn.Module):
    r"""Dropout over K stacked models, each seed's mask from its own stream when seeded.

    Args:
        p: Probability of zeroing an element.
        stack_size: Number of stacked models K (channels split into K equal chunks).
        masks: ``"torch"`` (``F.dropout``) or ``"hash"``
            (:func:`~tinyconv.train.hash_dropout.hash_dropout`, one key per seed's share
            drawn from its stream, so again each seed's masks are its separate run's).

    Shape:
        - Input: :math:`(B, K \cdot C, H, W)` (any shape with channels in dim 1)
        - Output: same shape.

    Example:
        >>> drop = StackedDropout(0.5, stack_size=2)
        >>> drop.streams = DropoutStreams([0, 1])
        >>> drop(torch.ones(1, 4, 2, 2)).shape
        torch.Size([1, 4, 2, 2])
    """

    def __init__(self, p: float, stack_size: int, masks: DropoutMasks = "torch") -> None:
        super().__init__()
        if masks not in DROPOUT_MASKS:
            raise ValueError(f"StackedDropout masks must be one of {DROPOUT_MASKS}, got {masks!r}")
        self.p = p
        self.stack_size = stack_size
        self.masks: DropoutMasks = masks
        self.streams: DropoutStreams | None = None

    def extra_repr(self) -> str:
        """Show ``p``, ``stack_size`` and hash masks."""
        masks = ", masks='hash'" if self.masks == "hash" else ""
        return f"p={self.p}, stack_size={self.stack_size}{masks}"

    def forward(self, x: Tensor) -> Tensor:
        """Apply dropout; per seed from its own stream when :attr:`streams` is set."""
        if not self.training or self.p == 0.0:
            return x
        if self.streams is None:
            return plain_or_hash_dropout(x, self.p, self.masks)
        layout = (
            torch.channels_last
            if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
            else torch.contiguous_format
        )
        chunks = []
        for index, chunk in enumerate(x.chunk(self.stack_size, dim=1)):
            with self.streams.use(index, x.device):
                chunk = chunk.contiguous(memory_format=layout)
                chunks.append(plain_or_hash_dropout(chunk, self.p, self.masks))
        return torch.cat(chunks, dim=1)


def _get_state(device: torch.device) -> Tensor:
    if device.type == "cuda":
        return torch.cuda.get_rng_state(device)
    if device.type == "mps":
        return torch.mps.get_rng_state()
    return torch.get_rng_state()


def _set_state(device: torch.device, state: Tensor) -> None:
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    elif device.type == "mps":
        torch.mps.set_rng_state(state)
    else:
        torch.set_rng_state(state)


def _seeded_state(seed: int, device: torch.device) -> Tensor:
    """The state ``torch.manual_seed(seed)`` gives ``device``'s generator, leaving it as it was."""
    if device.type == "cpu":
        return torch.Generator().manual_seed(seed).get_state()
    saved = _get_state(device)
    try:
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        else:
            torch.mps.manual_seed(seed)
        return _get_state(device)
    finally:
        _set_state(device, saved)
