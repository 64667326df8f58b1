"""``is_tracing``: whether a forward pass is being traced, so eager-only checks can step aside."""

from __future__ import annotations

import torch
import torch.fx


def is_tracing(x: object) -> bool:
    """Return True under ``torch.fx``, ``torch.jit.trace``, ``torch.export`` or ``torch.compile``.

    Input checks that branch on shapes or dtypes run in eager mode only; under a tracer
    they would either fail (an fx ``Proxy`` has no concrete shape) or bake a branch into
    the graph.

    Args:
        x: The forward pass's input.

    Returns:
        Whether the pass is being traced or compiled.

    Example:
        >>> is_tracing(torch.zeros(1))
        False
    """
    return isinstance(x, torch.fx.Proxy) or torch.jit.is_tracing() or torch.compiler.is_compiling()
