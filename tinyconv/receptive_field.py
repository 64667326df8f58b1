"""Receptive field: how much of the input one output position can see.

The classic recurrence, applied layer by layer in forward order:
``size += (kernel - 1) * dilation * jump`` and ``jump *= stride``, where
``jump`` is the distance in input pixels between neighbouring output positions.
Convolutions and max/average pools change it; BatchNorm, activations and
dropout do not. Global average pooling (a GAP head), and a flatten or linear
layer over the feature map, see the whole input, shown as a global field. A
squeeze-and-excitation gate also pools globally, but only to rescale channels;
the field reported here follows the convolutional path and ignores that gate,
as is customary.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn


def _first(value: int | tuple[int, ...]) -> int:
    return value if isinstance(value, int) else int(value[0])


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field after some layers.

    Args:
        size: Side, in input pixels, of the square one output position sees.
        jump: Input pixels between neighbouring output positions.
        is_global: True once a global pooling has mixed every position.

    Example:
        >>> from torch import nn
        >>> rf = ReceptiveField()
        >>> layers = [nn.Conv2d(1, 8, 3), nn.Conv2d(8, 8, 3), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3)]
        >>> for layer in layers:
        ...     rf = rf.through(layer)
        >>> rf
        ReceptiveField(size=10, jump=2, is_global=False)
    """

    size: int = 1
    jump: int = 1
    is_global: bool = False

    def grow(self, kernel: int, stride: int = 1, dilation: int = 1) -> ReceptiveField:
        """Return the field after one sliding-window layer.

        Args:
            kernel: Window size.
            stride: Window stride.
            dilation: Window dilation.

        Returns:
            The new receptive field.
        """
        return ReceptiveField(
            size=self.size + (kernel - 1) * dilation * self.jump,
            jump=self.jump * stride,
            is_global=self.is_global,
        )

    def through(self, module: nn.Module) -> ReceptiveField:
        """Return the field after ``module``, recursing into containers in registration order.

        A block with its own rule defines ``receptive_field_after(field)`` (a GAP head
        makes the field global, an SE block leaves it unchanged); convolutions and pools
        grow it; any other container is walked child by child.

        Args:
            module: A layer or a container whose children run in registration order.

        Returns:
            The new receptive field.
        """
        own_rule = getattr(module, "receptive_field_after", None)
        if callable(own_rule):
            return own_rule(self)
        if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d | nn.Flatten | nn.Linear):
            return ReceptiveField(self.size, self.jump, is_global=True)
        if isinstance(module, nn.Conv2d):
            return self.grow(
                _first(module.kernel_size), _first(module.stride), _first(module.dilation)
            )
        if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
            stride = module.stride if module.stride is not None else module.kernel_size
            dilation = getattr(module, "dilation", 1)
            return self.grow(_first(module.kernel_size), _first(stride), _first(dilation))
        field = self
        for child in module.children():
            field = field.through(child)
        return field

    def __str__(self) -> str:
        """Return ``"global"`` or the side length in pixels."""
        return "global" if self.is_global else str(self.size)


def receptive_fields(model: nn.Module) -> list[tuple[str, ReceptiveField]]:
    """Return the receptive field after each top-level child of ``model``.

    Args:
        model: A sequential model whose children run in registration order.

    Returns:
        ``(child name, field after it)`` pairs.

    Example:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.Conv2d(8, 16, 3), nn.MaxPool2d(2))
        >>> [(name, rf.size) for name, rf in receptive_fields(net)]
        [('0', 3), ('1', 5), ('2', 6)]
    """
    field = ReceptiveField()
    result = []
    for name, child in model.named_children():
        field = field.through(child)
        result.append((name, field))
    return result
