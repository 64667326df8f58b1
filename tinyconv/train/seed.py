"""Seeding and random-state capture, so a resumed run draws the same numbers as an unbroken one.

``seed_everything`` seeds Python's ``random`` and torch (CPU and every CUDA device).
``rng_state`` / ``set_rng_state`` capture and restore those generators; the trainer stores the
captured state in each checkpoint. NumPy is not touched: tinyconv does not draw from it.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import torch

MAX_SEED = 2**63 - 1


def seed_everything(seed: int) -> None:
    """Seed Python ``random`` and torch on the CPU and on every CUDA device.

    Args:
        seed: A non-negative integer below ``2**63``.

    Raises:
        ValueError: If ``seed`` is not an int in ``[0, 2**63)``.

    Example:
        >>> seed_everything(7); a = torch.rand(2)
        >>> seed_everything(7); torch.equal(a, torch.rand(2))
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an int in [0, 2**63), got {seed!r}")
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def rng_state() -> dict[str, Any]:
    """Capture the state of Python ``random``, torch's CPU generator and CUDA generators.

    Returns:
        A dict with keys ``"python"``, ``"torch"`` and ``"cuda"`` (``None`` without CUDA),
        suitable for ``torch.save`` and for ``set_rng_state``.

    Example:
        >>> state = rng_state(); a = torch.rand(3)
        >>> set_rng_state(state); torch.equal(a, torch.rand(3))
        True
    """
    return {
        "python": random.getstate(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore generators captured by ``rng_state``.

    CUDA states are restored only when CUDA is available here (a checkpoint written on a GPU
    machine can be resumed on a CPU one); a differing device count gives a warning.

    Args:
        state: The dict returned by ``rng_state`` (tensors may live on any device).

    Raises:
        ValueError: If ``state`` lacks the ``"python"`` or ``"torch"`` entry.

    Example:
        >>> state = rng_state()
        >>> first = torch.rand(2)
        >>> set_rng_state(state)
        >>> torch.equal(first, torch.rand(2))
        True
    """
    missing = [key for key in ("python", "torch") if key not in state]
    if missing:
        raise ValueError(
            f"RNG state is missing {missing}; expected the dict returned by rng_state(), "
            f"got keys {sorted(state)}"
        )
    python_state = state["python"]
    # torch.load may hand back lists where random.getstate() produced tuples.
    random.setstate((python_state[0], tuple(python_state[1]), python_state[2]))
    torch.set_rng_state(state["torch"].cpu())
    cuda_states = state.get("cuda")
    if cuda_states is None or not torch.cuda.is_available():
        return
    if len(cuda_states) != torch.cuda.device_count():
        warnings.warn(
            f"RNG state holds {len(cuda_states)} CUDA generator(s) but this machine has "
            f"{torch.cuda.device_count()}; CUDA generators were left as they are",
            stacklevel=2,
        )
        return
    torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states])
