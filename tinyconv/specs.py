"""Block specs: frozen dataclasses that declare a model as data, one row per block.

Each spec knows how many channels it produces, what spatial size it leaves, and
how to make its module for a given input. :func:`tinyconv.build` threads the
channels and feature-map sizes through a sequence of specs, so a model reads
like a table::

    (
        ConvSpec(out_channels=8),
        ConvSpec(out_channels=16),
        SESpec(rd_channels=4),
        TransitionSpec(out_channels=8),
        ConvSpec(out_channels=16),
        GAPHeadSpec(num_classes=10),
    )

Specs hold plain values (activations by name), so they print, compare and
serialise cleanly. Their fields are checked by ``build``, which names the layer
index in every error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import nn

from tinyconv._checks import check_non_negative_int, check_positive_int
from tinyconv.blocks import (
    ConvBlock,
    ConvHead,
    GAPHead,
    SqueezeExcite,
    Transition,
    reduced_channels,
)

Size = tuple[int, int]


def conv_output_size(
    size: Size, kernel_size: int, stride: int, padding: int, dilation: int
) -> Size:
    """Return the spatial size a convolution leaves, or raise if its kernel does not fit.

    Args:
        size: Input ``(height, width)``.
        kernel_size: Square kernel size.
        stride: Stride.
        padding: Zero padding on each side.
        dilation: Dilation.

    Returns:
        Output ``(height, width)``.

    Raises:
        ValueError: If the (dilated) kernel is larger than the padded feature map.

    Example:
        >>> conv_output_size((28, 28), kernel_size=3, stride=1, padding=0, dilation=1)
        (26, 26)
    """
    span = dilation * (kernel_size - 1) + 1
    height, width = size
    if span > height + 2 * padding or span > width + 2 * padding:
        raise ValueError(
            f"kernel {kernel_size}x{kernel_size} (span {span} with dilation {dilation}, "
            f"padding {padding}) is larger than the {height}x{width} feature map it meets; "
            "use a smaller kernel, more padding, or fewer downsampling layers before it"
        )
    return tuple((n + 2 * padding - span) // stride + 1 for n in size)  # type: ignore[return-value]


@dataclass(frozen=True, kw_only=True)
class ConvSpec:
    """A :class:`~tinyconv.ConvBlock` (conv, optional BN, activation, dropout).

    Args:
        out_channels: Channels produced.
        kernel_size: Square kernel size.
        padding: Zero padding on each side.
        stride: Stride.
        dilation: Dilation.
        norm: Add BatchNorm.
        activation: Activation name, or ``None``.
        dropout: Dropout probability (``0`` for none).
        order: Part order, e.g. ``"conv-act-norm-drop"`` or ``"conv-norm-act-drop"``.
        bias: Convolution bias; ``None`` means "only without a norm".

    Example:
        >>> ConvSpec(out_channels=8).output(1, (28, 28))
        (8, (26, 26))
        >>> [name for name, _ in ConvSpec(out_channels=8).make(1, (28, 28)).named_children()]
        ['conv', 'act', 'norm']
    """

    kind: ClassVar[str] = "conv"
    out_channels: int
    kernel_size: int = 3
    padding: int = 0
    stride: int = 1
    dilation: int = 1
    norm: bool = True
    activation: str | None = "relu"
    dropout: float = 0.0
    order: str = "conv-act-norm-drop"
    bias: bool | None = None

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(channels, size)`` after this block, checking that it fits."""
        check_positive_int("out_channels", self.out_channels)
        for name in ("kernel_size", "stride", "dilation"):
            check_positive_int(name, getattr(self, name))
        check_non_negative_int("padding", self.padding)
        out_size = conv_output_size(
            size, self.kernel_size, self.stride, self.padding, self.dilation
        )
        return self.out_channels, out_size

    def make(self, in_channels: int, size: Size) -> nn.Module:
        """Create the block for an input of ``in_channels`` channels."""
        return ConvBlock(
            in_channels,
            self.out_channels,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            norm=self.norm,
            activation=self.activation,
            dropout=self.dropout,
            order=self.order,
            bias=self.bias,
        )


@dataclass(frozen=True, kw_only=True)
class SESpec:
    """A :class:`~tinyconv.SqueezeExcite` block over the current channels.

    Args:
        rd_ratio: Bottleneck width as a fraction of the channels (must divide exactly).
        rd_channels: Explicit bottleneck width; overrides ``rd_ratio``.
        activation: Bottleneck activation name.

    Example:
        >>> SESpec(rd_channels=4).make(16, (24, 24)).rd_channels
        4
    """

    kind: ClassVar[str] = "se"
    rd_ratio: float | None = 0.25
    rd_channels: int | None = None
    activation: str | None = "relu"

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(channels, size)`` after this block (both unchanged)."""
        reduced_channels(in_channels, self.rd_ratio, self.rd_channels)
        return in_channels, size

    def make(self, in_channels: int, size: Size) -> nn.Module:
        """Create the block for an input of ``in_channels`` channels."""
        return SqueezeExcite(
            in_channels, self.rd_ratio, self.rd_channels, activation=self.activation
        )


@dataclass(frozen=True, kw_only=True)
class TransitionSpec:
    """A :class:`~tinyconv.Transition`: 1x1 channel squeeze plus max-pool.

    Args:
        out_channels: Channels after the 1x1 convolution.
        order: ``"pool-conv"`` or ``"conv-pool"``.
        pool_size: Max-pool kernel and stride.
        norm: BatchNorm after the 1x1 convolution.
        activation: Activation after the 1x1 convolution, or ``None``.
        dropout: Dropout after the 1x1 convolution.

    Example:
        >>> TransitionSpec(out_channels=8).output(16, (24, 24))
        (8, (12, 12))
    """

    kind: ClassVar[str] = "trans"
    out_channels: int
    order: str = "pool-conv"
    pool_size: int = 2
    norm: bool = False
    activation: str | None = None
    dropout: float = 0.0

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(channels, size)`` after this block, checking that it fits."""
        check_positive_int("out_channels", self.out_channels)
        check_positive_int("pool_size", self.pool_size)
        if min(size) < self.pool_size:
            raise ValueError(
                f"{self.pool_size}x{self.pool_size} max-pool does not fit the "
                f"{size[0]}x{size[1]} feature map it meets; remove a downsampling layer"
            )
        return self.out_channels, (size[0] // self.pool_size, size[1] // self.pool_size)

    def make(self, in_channels: int, size: Size) -> nn.Module:
        """Create the block for an input of ``in_channels`` channels."""
        return Transition(
            in_channels,
            self.out_channels,
            order=self.order,
            pool_size=self.pool_size,
            norm=self.norm,
            activation=self.activation,
            dropout=self.dropout,
        )


@dataclass(frozen=True, kw_only=True)
class GAPHeadSpec:
    """A :class:`~tinyconv.GAPHead`: global average pooling and a 1x1 conv.

    Args:
        num_classes: Logits produced.
        mode: ``"pool-conv"`` or ``"conv-pool"``.
        use_conv: 1x1 convolution (default) or linear layer.
        bias: Bias on the class map.

    Example:
        >>> GAPHeadSpec(num_classes=10).output(16, (6, 6))
        (10, (1, 1))
    """

    kind: ClassVar[str] = "head"
    num_classes: int = 10
    mode: str = "pool-conv"
    use_conv: bool = True
    bias: bool = False

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(num_classes, (1, 1))``."""
        check_positive_int("num_classes", self.num_classes)
        return self.num_classes, (1, 1)

    def make(self, in_channels: int, size: Size) -> nn.Module:
        """Create the head for an input of ``in_channels`` channels."""
        return GAPHead(
            in_channels, self.num_classes, mode=self.mode, use_conv=self.use_conv, bias=self.bias
        )


@dataclass(frozen=True, kw_only=True)
class ConvHeadSpec:
    """A :class:`~tinyconv.ConvHead`: one conv covering the whole feature map.

    Args:
        num_classes: Logits produced.
        kernel_size: Kernel size; ``None`` takes the size of the (square) feature map.
        bias: Convolution bias.

    Example:
        >>> ConvHeadSpec(num_classes=10).make(16, (7, 7)).kernel_size
        7
    """

    kind: ClassVar[str] = "head"
    num_classes: int = 10
    kernel_size: int | None = None
    bias: bool = False

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(num_classes, (1, 1))``, checking the kernel covers the feature map."""
        check_positive_int("num_classes", self.num_classes)
        self._kernel_for(size)
        return self.num_classes, (1, 1)

    def _kernel_for(self, size: Size) -> int:
        if size[0] != size[1]:
            raise ValueError(f"ConvHead needs a square feature map, got {size[0]}x{size[1]}")
        if self.kernel_size is not None and self.kernel_size != size[0]:
            raise ValueError(
                f"kernel_size={self.kernel_size} does not cover the {size[0]}x{size[1]} "
                f"feature map it meets; use kernel_size={size[0]} or None"
            )
        return size[0]

    def make(self, in_channels: int, size: Size) -> nn.Module:
        """Create the head for an input of ``in_channels`` channels and spatial ``size``."""
        return ConvHead(in_channels, self.num_classes, self._kernel_for(size), bias=self.bias)


BlockSpec = ConvSpec | SESpec | TransitionSpec | GAPHeadSpec | ConvHeadSpec
"""Any one block spec, the type of each row of a model declaration given to ``build``."""
HEAD_SPECS = (GAPHeadSpec, ConvHeadSpec)
BLOCK_SPECS = (ConvSpec, SESpec, TransitionSpec, *HEAD_SPECS)
