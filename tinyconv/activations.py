"""Activation lookup: turns a name such as ``"relu"`` into an ``nn.Module`` class.

Specs are plain data, so they name activations by string; blocks accept either a
name, a module class, or ``None`` for no activation.
"""

from __future__ import annotations

from torch import nn

ActivationLike = str | type[nn.Module] | None

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "hardswish": nn.Hardswish,
    "sigmoid": nn.Sigmoid,
    "hardsigmoid": nn.Hardsigmoid,
    "tanh": nn.Tanh,
}
"""Activation names accepted by specs and blocks, mapped to their ``nn.Module`` classes."""


def resolve_activation(activation: ActivationLike) -> type[nn.Module] | None:
    """Return the module class for an activation name, class, or ``None``.

    Args:
        activation: A key of :data:`ACTIVATIONS`, an ``nn.Module`` subclass, or ``None``.

    Returns:
        The ``nn.Module`` subclass, or ``None`` when no activation is wanted.

    Raises:
        ValueError: If ``activation`` is an unknown name or not a module class.

    Example:
        >>> resolve_activation("relu")
        <class 'torch.nn.modules.activation.ReLU'>
        >>> resolve_activation(None) is None
        True
    """
    if activation is None:
        return None
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation.lower()]
        except KeyError:
            known = ", ".join(sorted(ACTIVATIONS))
            raise ValueError(
                f"unknown activation {activation!r}; use one of: {known}, "
                "or pass an nn.Module subclass"
            ) from None
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation
    raise ValueError(
        f"activation must be a name, an nn.Module subclass or None, got {activation!r}"
    )


def make_activation(activation: ActivationLike) -> nn.Module | None:
    """Instantiate an activation with its default arguments.

    Args:
        activation: As for :func:`resolve_activation`.

    Returns:
        A new activation module, or ``None``.

    Example:
        >>> make_activation("relu")
        ReLU()
    """
    cls = resolve_activation(activation)
    return None if cls is None else cls()
