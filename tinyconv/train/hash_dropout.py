"""Dropout masks from a counter-based hash: the same dropout, drawn at memory speed.

``F.dropout`` on the CPU draws its mask with ``bernoulli_``: one call of torch's
Mersenne-Twister generator per element, on one thread, 5-6 ns an element, 13 % of a V5
training step with one thread and 27 % with two (``benchmarks/README.md``). Here a
mask is a pure function of the element's index and a *key*: the key is one 32-bit draw
from torch's generator of the tensor's device (so it lives in the RNG state every
checkpoint already saves, and per-seed dropout streams apply unchanged), and each
element's 32-bit value is the ``lowbias32`` integer hash (Wellons; constants by
TheIronBorn) of ``hash(index) + key``, evaluated with a dozen vectorised ``int32``
tensor operations that torch runs on every thread. An element is kept when the top 31
bits of its value, read as a signed number, fall below a threshold set so that the keep
probability is ``1 - p`` to within ``2**-31``; elements are independent as far as the
hash is a good one (``tests/train/test_hash_dropout.py`` tests rate, neighbours,
patterns and keys), and the same key gives the same mask on every rerun and resume.
Kept elements are scaled by ``1 / (1 - p)``, as ``F.dropout`` does; the mask is computed
in the logical (contiguous) element order, so it does not depend on the memory format.

The masks differ from ``F.dropout``'s (another generator), so a run with hash masks is
another random draw of the same training: :class:`~tinyconv.train.TrainConfig`'s
``dropout_masks`` chooses. ``"hash"`` is the default since recipe format 2 (a
version-1 recipe reads back with the ``"torch"`` masks its runs drew; see
``benchmarks/README.md``). Two masks of one run coincide only when their 32-bit keys do
(probability ``2**-32`` per pair).
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

DropoutMasks = Literal["torch", "hash"]
DROPOUT_MASKS: tuple[str, ...] = ("torch", "hash")
"""Mask generators ``TrainConfig.dropout_masks`` accepts: ``"torch"`` (``F.dropout``'s
``bernoulli_``) and ``"hash"`` (:func:`hash_dropout`)."""

_MULTIPLIERS = (0x21F0AAAD, 0x735A2D97)  # lowbias32, shifts 16, 15, 15
_INDEX_SPREAD = 0x9E3779B9  # odd: the index times it, then hashed, is the per-element base
_bases: dict[torch.device, Tensor] = {}
_scratches: dict[tuple[torch.device, int], Tensor] = {}


def _int32(value: int) -> int:
    """``value`` modulo ``2**32`` as a signed 32-bit integer (what an int32 tensor holds)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _shift_xor_(h: Tensor, tmp: Tensor, shift: int) -> None:
    """``h ^= h >>> shift`` in place (a logical shift: int32 tensors shift arithmetically)."""
    torch.bitwise_right_shift(h, shift, out=tmp)
    tmp.bitwise_and_((1 << (32 - shift)) - 1)
    h.bitwise_xor_(tmp)


def _scratch(count: int, device: torch.device) -> Tensor:
    """A reusable int32 buffer of ``count`` elements for this thread and device.

    Allocating a fresh buffer of a few MB per mask costs more than the hash itself where
    the allocator hands the memory back to the system after each free (page faults).
    """
    key = (device, threading.get_ident())
    buffer = _scratches.get(key)
    if buffer is None or buffer.numel() < count:
        buffer = torch.empty(count, dtype=torch.int32, device=device)
        _scratches[key] = buffer
    return buffer[:count]


def _lowbias32_(h: Tensor) -> Tensor:
    """Hash every int32 element of 1-D ``h`` in place (a bijection of 32-bit words)."""
    tmp = _scratch(h.numel(), h.device)
    _shift_xor_(h, tmp, 16)
    h.mul_(_int32(_MULTIPLIERS[0]))
    _shift_xor_(h, tmp, 15)
    h.mul_(_int32(_MULTIPLIERS[1]))
    _shift_xor_(h, tmp, 15)
    return h


def _lowbias32(h: Tensor) -> Tensor:
    """:func:`_lowbias32_` out of place, for ``torch.compile`` to fuse into one loop."""
    h = h ^ ((h >> 16) & 0xFFFF)
    h = h * _int32(_MULTIPLIERS[0])
    h = h ^ ((h >> 15) & 0x1FFFF)
    h = h * _int32(_MULTIPLIERS[1])
    return h ^ ((h >> 15) & 0x1FFFF)


def _index_base(count: int, device: torch.device) -> Tensor:
    """The hashed element indices ``0 .. count - 1`` on ``device`` (cached, grown on demand)."""
    base = _bases.get(device)
    if base is None or base.numel() < count:
        size = max(count, 2 * base.numel() if base is not None else 0)
        index = torch.arange(size, dtype=torch.int32, device=device)
        base = _lowbias32_(index.mul_(_int32(_INDEX_SPREAD)))
        _bases[device] = base
    return base[:count]


def draw_key(device: torch.device | str = "cpu") -> Tensor:
    """Draw one mask key from torch's default generator of ``device``.

    Args:
        device: Where the mask will live; its generator is advanced by one draw.

    Returns:
        A 0-dim ``int32`` tensor on ``device`` (no host sync on an accelerator).

    Example:
        >>> _ = torch.manual_seed(0); a = draw_key()
        >>> _ = torch.manual_seed(0); bool(a == draw_key())
        True
    """
    return torch.randint(-(2**31), 2**31, (), dtype=torch.int32, device=device)


def hash_noise(
    shape: torch.Size | tuple[int, ...],
    p: float,
    key: Tensor | int,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """The dropout multiplier of every element: ``1 / (1 - p)`` where kept, else ``0``.

    Args:
        shape: Shape of the tensor to drop from (elements are numbered in C order).
        p: Probability of zeroing an element, in ``[0, 1)``.
        key: A 32-bit key (from :func:`draw_key`, or an int); equal keys give equal masks.
        device: Device of the result.
        dtype: Floating dtype of the result.

    Returns:
        A tensor of ``shape`` holding ``0`` and ``1 / (1 - p)``.

    Raises:
        ValueError: If ``p`` is not in ``[0, 1)``, or the shape has ``2**31`` elements or
            more (elements are numbered with 32 bits).

    Example:
        >>> noise = hash_noise((2, 3), 0.5, key=7)
        >>> sorted(set(noise.flatten().tolist())) in ([0.0, 2.0], [0.0], [2.0])
        True
        >>> torch.equal(noise, hash_noise((2, 3), 0.5, key=7))
        True
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p!r}")
    count = 1
    for size in shape:
        count *= int(size)
    if count >= 2**31:
        raise ValueError(
            f"hash dropout masks number elements with 32 bits; a tensor of shape "
            f"{tuple(shape)} has {count:,} elements (at most 2**31 - 1); use "
            "TrainConfig(dropout_masks='torch') for it"
        )
    if isinstance(key, int):
        key = _int32(key)
    if torch.compiler.is_compiling():  # one fused loop: no cached base, no scratch buffer
        index = torch.arange(count, dtype=torch.int32, device=device)
        h = _lowbias32(_lowbias32(index * _int32(_INDEX_SPREAD)) + key)
    else:
        h = _lowbias32_(torch.add(_index_base(count, torch.device(device)), key))
    noise = _noise_from_hash_(h, 1.0 - p).view(tuple(shape))
    return noise if dtype == torch.float32 else noise.to(dtype)


def _noise_from_hash_(h: Tensor, keep: float) -> Tensor:
    """Turn uniform int32 hashes into float32 ``1 / keep`` (kept) or ``0``, in place.

    ``h`` is uniform on ``[-2**31, 2**31)``, so ``h >> 1`` is uniform on
    ``[-2**30, 2**30)``; an element is kept iff ``(h >> 1) < threshold``, which happens
    with probability ``(threshold + 2**30) / 2**31 = round(keep * 2**31) / 2**31``, and the
    subtraction cannot overflow.
    """
    threshold = min(round(keep * 2**31), 2**31 - 1) - 2**30
    # the sign of (h >> 1) - threshold spread over all bits: all ones where kept, else 0;
    # then only the bits of the float 1 / keep survive where kept
    h.bitwise_right_shift_(1).sub_(threshold).bitwise_right_shift_(31)
    scale = struct.unpack("<i", struct.pack("<f", 1.0 / keep))[0]
    return h.bitwise_and_(scale).view(torch.float32)


def hash_dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Dropout with a hash mask keyed by one draw from torch's generator of ``x``'s device.

    Same semantics as ``F.dropout(x, p, training)``: each element is zeroed with
    probability ``p``, independently, and the others are scaled by ``1 / (1 - p)``;
    outside training, or with ``p == 0``, ``x`` is returned as is. Only the random
    numbers differ (see the module docstring).

    Args:
        x: Any floating tensor.
        p: Probability of zeroing an element, in ``[0, 1]``.
        training: Apply dropout (else return ``x``).

    Returns:
        ``x`` times the mask, of ``x``'s shape and dtype.

    Raises:
        ValueError: If ``p`` is not in ``[0, 1]``.

    Example:
        >>> x = torch.ones(1000)
        >>> _ = torch.manual_seed(0); y = hash_dropout(x, 0.25)
        >>> 0.7 < float((y > 0).float().mean()) < 0.8, float(y.max())
        (True, 1.3333333730697632)
        >>> _ = torch.manual_seed(0); torch.equal(y, hash_dropout(x, 0.25))
        True
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p!r}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return x * hash_noise(x.shape, p, draw_key(x.device), device=x.device, dtype=x.dtype)


class HashDropout(nn.Dropout):
    r"""``nn.Dropout`` whose masks come from :func:`hash_dropout`.

    A subclass of ``nn.Dropout``, so whatever treats dropout layers alike (BatchNorm
    folding, export, stacking) treats it alike; in eval mode it is the identity.
    Training with ``TrainConfig(dropout_masks="hash")`` puts it in place of every
    ``nn.Dropout`` for the run (see :func:`use_dropout_masks`).

    Args:
        p: Probability of zeroing an element, in ``[0, 1]``.

    Shape:
        - Input: any.
        - Output: same shape.

    Example:
        >>> drop = HashDropout(0.1)
        >>> drop(torch.ones(2, 3)).shape, drop.eval()(torch.ones(2)).tolist()
        (torch.Size([2, 3]), [1.0, 1.0])
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)  # nn.Dropout checks p is in [0, 1]

    def forward(self, x: Tensor) -> Tensor:
        """Drop elements of ``x`` with hash masks while training."""
        return hash_dropout(x, self.p, self.training)


def plain_or_hash_dropout(x: Tensor, p: float, masks: DropoutMasks) -> Tensor:
    """Training-mode dropout with the chosen generator (``"torch"``: ``F.dropout``).

    Example:
        >>> plain_or_hash_dropout(torch.ones(3), 0.0, "hash").tolist()
        [1.0, 1.0, 1.0]
    """
    return hash_dropout(x, p) if masks == "hash" else F.dropout(x, p, True)


@contextmanager
def use_dropout_masks(models: nn.Module | list[nn.Module], masks: DropoutMasks) -> Iterator[None]:
    """Inside the block, every ``nn.Dropout`` of ``models`` draws ``masks`` masks.

    With ``"hash"``, each plain ``nn.Dropout`` is replaced by a :class:`HashDropout` of
    the same ``p`` and training mode (``inplace`` is not kept); with ``"torch"``, each
    :class:`HashDropout` by a plain ``nn.Dropout``. The original modules are put back on
    leaving, also after an error, so the caller's model comes back as it went in.

    Args:
        models: A model or a list of models, changed in place for the block.
        masks: ``"torch"`` or ``"hash"``.

    Raises:
        ValueError: If ``masks`` is not one of :data:`DROPOUT_MASKS`.

    Example:
        >>> model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))
        >>> with use_dropout_masks(model, "hash"):
        ...     type(model[1]).__name__
        'HashDropout'
        >>> type(model[1]).__name__
        'Dropout'
    """
    if masks not in DROPOUT_MASKS:
        raise ValueError(f"dropout masks must be one of {DROPOUT_MASKS}, got {masks!r}")
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    for model in models if isinstance(models, list) else [models]:
        for parent in list(model.modules()):
            for name, child in list(parent.named_children()):
                if type(child) not in (nn.Dropout, HashDropout):
                    continue  # other layers, and subclasses of a user's own, are left alone
                wanted = HashDropout if masks == "hash" else nn.Dropout
                if type(child) is wanted:
                    continue
                replacement = wanted(child.p)
                replacement.train(child.training)
                setattr(parent, name, replacement)
                swapped.append((parent, name, child))
    try:
        yield
    finally:
        for parent, name, child in reversed(swapped):
            setattr(parent, name, child)
