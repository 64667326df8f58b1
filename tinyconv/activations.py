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


IN_PLACE_ACTIVATIONS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6, nn.LeakyReLU)
"""Activations that can overwrite their input (``inplace=True``) and still backpropagate:
their gradient reads only their output."""


def make_activation(activation: ActivationLike, *, inplace: bool = False) -> nn.Module | None:
    """Instantiate an activation with its default arguments.

    Args:
        activation: As for :func:`resolve_activation`.
        inplace: Overwrite the input tensor when the activation is one of
            :data:`IN_PLACE_ACTIVATIONS` (one tensor fewer per training step); other
            activations ignore it. Only for an input nothing else reads: a
            :class:`~tinyconv.blocks.ConvBlock` asks for it on the output of its own
            convolution or BatchNorm.

    Returns:
        A new activation module, or ``None``.

    Example:
        >>> make_activation("relu")
        ReLU()
        >>> make_activation("relu", inplace=True), make_activation("gelu", inplace=True)
        (ReLU(inplace=True), GELU(approximate='none'))
    """
    cls = resolve_activation(activation)
    if cls is None:
        return None
    return cls(inplace=True) if inplace and issubclass(cls, IN_PLACE_ACTIVATIONS) else cls()
