"""Block specs: frozen dataclasses that declare a model as data, one row per block.

Each spec names its block's arguments (the block's own constructor owns their
checks), says how many channels and what spatial size the block leaves, and
makes the block for a given input. :func:`tinyconv.build` threads the channels
and feature-map sizes through a sequence of specs, so a model reads like a table::

    (
        ConvSpec(out_channels=8),
        ConvSpec(out_channels=16),
        SESpec(rd_channels=4),
        TransitionSpec(out_channels=8),
        ConvSpec(out_channels=16),
        GAPHeadSpec(num_classes=10),
    )

Specs are plain data: they print, compare, hash and round-trip through JSON-able
dicts (:meth:`BlockSpec.to_dict`, :func:`spec_from_dict`). Every subclass of
:class:`BlockSpec` registers itself under its ``kind`` tag, so a new block kind
is one dataclass in one file; nothing else lists the kinds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from torch import nn

from tinyconv._dataclass_dicts import fields_from_dict
from tinyconv.blocks import (
    ConvBlock,
    ConvHead,
    DepthwiseSeparable,
    GAPHead,
    SqueezeExcite,
    Transition,
)
from tinyconv.errors import SpecError

Size = tuple[int, int]

SPECS_FORMAT_VERSION = 1
"""Version of the architecture dict layout (see :meth:`tinyconv.TinyNet.architecture`)."""


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


class BlockSpec:
    """Base of every block spec: registration by ``kind``, dict round trip, ``make``.

    A subclass is a frozen, keyword-only dataclass whose fields are exactly the
    keyword arguments of its ``block`` after the input channels. It declares
    ``kind`` (the unique tag in dicts and JSON), ``prefix`` (child names such as
    ``conv1``), ``block`` (the module class) and, for a head, ``is_head = True``;
    and it implements :meth:`output`. Defining the subclass registers it.

    Example:
        >>> sorted(BlockSpec.registry)
        ['conv', 'conv_head', 'gap_head', 'se', 'separable', 'transition']
        >>> spec = ConvSpec(out_channels=8, dropout=0.1)
        >>> spec.to_dict()["kind"], spec_from_dict(spec.to_dict()) == spec
        ('conv', True)
    """

    kind: ClassVar[str]
    prefix: ClassVar[str]
    block: ClassVar[type[nn.Module]]
    is_head: ClassVar[bool] = False
    registry: ClassVar[dict[str, type[BlockSpec]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is None:
            return  # an abstract intermediate class
        if kind in BlockSpec.registry and BlockSpec.registry[kind].__qualname__ != cls.__qualname__:
            raise SpecError(
                f"spec kind {kind!r} is taken by {BlockSpec.registry[kind].__name__}; "
                f"give {cls.__name__} another kind"
            )
        BlockSpec.registry[kind] = cls

    def arguments(self) -> dict[str, Any]:
        """Return the block's keyword arguments, one per field."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}  # type: ignore[arg-type]

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(channels, size)`` after this block, checking that it fits.

        Args:
            in_channels: Channels of the feature map the block meets.
            size: ``(height, width)`` of that feature map.

        Returns:
            Channels and spatial size the block leaves (``(1, 1)`` for a head).

        Raises:
            ValueError: If the block does not fit the feature map.
        """
        raise NotImplementedError

    def make(self, in_channels: int, size: Size) -> nn.Module:
        """Create the block for an input of ``in_channels`` channels and spatial ``size``.

        Args:
            in_channels: Channels of the feature map the block meets.
            size: ``(height, width)`` of that feature map.

        Returns:
            A new module; its constructor checks the arguments.
        """
        return self.block(in_channels, **self.arguments())

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as a JSON-able dict with its ``kind`` tag first.

        Returns:
            ``{"kind": ..., <field>: <value>, ...}``.
        """
        return {"kind": self.kind, **self.arguments()}


def spec_from_dict(data: Mapping[str, Any]) -> BlockSpec:
    """Rebuild a spec from :meth:`BlockSpec.to_dict` output (or hand-written JSON).

    Args:
        data: A mapping with a ``kind`` tag and the spec's fields; omitted fields
            take their defaults.

    Returns:
        The spec.

    Raises:
        SpecError: For an unknown kind, an unknown or missing field, or a value of
            the wrong type; the message names the field and the known ones.

    Example:
        >>> spec_from_dict({"kind": "se", "rd_channels": 4})
        SESpec(rd_ratio=0.25, rd_channels=4, activation='relu', gate='sigmoid', bias=True)
        >>> spec_from_dict({"kind": "conv", "out_channels": 8, "widht": 3})
        Traceback (most recent call last):
        ...
        tinyconv.errors.SpecError: unknown field 'widht' for kind 'conv' (ConvSpec); known fields: out_channels, kernel_size, padding, stride, dilation, norm, activation, dropout, order, bias, groups
    """  # noqa: E501
    if not isinstance(data, Mapping):
        raise SpecError(f"a spec must be a dict with a 'kind', got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in BlockSpec.registry:
        known = ", ".join(sorted(BlockSpec.registry))
        raise SpecError(f"unknown spec kind {kind!r}; known kinds: {known}")
    cls = BlockSpec.registry[kind]
    values = {key: value for key, value in data.items() if key != "kind"}
    return cls(**fields_from_dict(cls, values, f"kind {kind!r} ({cls.__name__})"))


def specs_to_list(specs: Sequence[BlockSpec]) -> list[dict[str, Any]]:
    """Return a spec sequence as a list of JSON-able dicts.

    Args:
        specs: Block specs in order.

    Returns:
        One dict per spec (see :meth:`BlockSpec.to_dict`).

    Example:
        >>> specs_to_list([GAPHeadSpec(num_classes=3)])
        [{'kind': 'gap_head', 'num_classes': 3, 'mode': 'pool-conv', 'use_conv': True, 'bias': False}]
    """  # noqa: E501
    return [spec.to_dict() for spec in specs]


def specs_from_list(data: Sequence[Mapping[str, Any]]) -> tuple[BlockSpec, ...]:
    """Rebuild a spec sequence from :func:`specs_to_list` output.

    Args:
        data: One dict per spec.

    Returns:
        The specs, in order.

    Raises:
        SpecError: Naming the index of the first bad dict and what is wrong with it.
    """
    if isinstance(data, str | bytes) or not isinstance(data, Sequence):
        raise SpecError(f"specs must be a list of dicts, got {type(data).__name__}")
    specs = []
    for index, item in enumerate(data):
        try:
            specs.append(spec_from_dict(item))
        except SpecError as error:
            raise SpecError(f"spec {index}: {error}") from None
    return tuple(specs)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConvSpec(BlockSpec):
    """A :class:`~tinyconv.ConvBlock` (conv, optional BN, activation, dropout).

    Fields are the block's arguments; see :class:`~tinyconv.ConvBlock` for their meaning.

    Args:
        out_channels: Channels produced.
        kernel_size: Square kernel size.
        stride: Stride.
        padding: Zero padding on each side.
        dilation: Dilation.
        norm: Add BatchNorm.
        activation: Activation name, or ``None``.
        dropout: Dropout probability (``0`` for none).
        order: Part order, e.g. ``"conv-act-norm-drop"`` or ``"conv-norm-act-drop"``.
        bias: Convolution bias; ``None`` means "only without a norm".
        groups: Convolution groups (both channel counts must be multiples of it);
            :class:`DepthwiseSeparableSpec` is the depthwise-then-1x1 pair.

    Example:
        >>> ConvSpec(out_channels=8).output(1, (28, 28))
        (8, (26, 26))
        >>> [name for name, _ in ConvSpec(out_channels=8).make(1, (28, 28)).named_children()]
        ['conv', 'act', 'norm']
    """

    kind: ClassVar[str] = "conv"
    prefix: ClassVar[str] = "conv"
    block: ClassVar[type[nn.Module]] = ConvBlock
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
    groups: int = 1

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(out_channels, size)`` after the convolution, checking that it fits."""
        out_size = conv_output_size(
            size, self.kernel_size, self.stride, self.padding, self.dilation
        )
        return self.out_channels, out_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class DepthwiseSeparableSpec(BlockSpec):
    """A :class:`~tinyconv.DepthwiseSeparable` block: depthwise, then 1x1 convolution.

    Fields are the block's arguments; see :class:`~tinyconv.DepthwiseSeparable`.

    Args:
        out_channels: Channels produced by the 1x1 convolution.
        kernel_size: Square kernel size of the depthwise convolution.
        padding: Depthwise zero padding on each side.
        stride: Depthwise stride.
        dilation: Depthwise dilation.
        multiplier: Depthwise filters per input channel.
        norm: BatchNorm after each half.
        activation: Activation after each half, or ``None``.
        dropout: Dropout after the 1x1 half.
        order: Part order of both halves.

    Example:
        >>> spec = DepthwiseSeparableSpec(out_channels=16)
        >>> spec.output(8, (12, 12))
        (16, (10, 10))
        >>> [name for name, _ in spec.make(8, (12, 12)).named_children()]
        ['depthwise', 'pointwise']
    """

    kind: ClassVar[str] = "separable"
    prefix: ClassVar[str] = "sep"
    block: ClassVar[type[nn.Module]] = DepthwiseSeparable
    out_channels: int
    kernel_size: int = 3
    padding: int = 0
    stride: int = 1
    dilation: int = 1
    multiplier: int = 1
    norm: bool = True
    activation: str | None = "relu"
    dropout: float = 0.0
    order: str = "conv-act-norm-drop"

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(out_channels, size)`` after the depthwise convolution, checking the fit."""
        out_size = conv_output_size(
            size, self.kernel_size, self.stride, self.padding, self.dilation
        )
        return self.out_channels, out_size


@dataclasses.dataclass(frozen=True, kw_only=True)
class SESpec(BlockSpec):
    """A :class:`~tinyconv.SqueezeExcite` block over the current channels.

    Args:
        rd_ratio: Bottleneck width as a fraction of the channels (must divide exactly).
        rd_channels: Explicit bottleneck width; overrides ``rd_ratio``.
        activation: Bottleneck activation name.
        gate: Gate activation name (``"sigmoid"``, ``"hardsigmoid"``).
        bias: Biases on the two 1x1 convolutions.

    Example:
        >>> SESpec(rd_channels=4).make(16, (24, 24)).rd_channels
        4
    """

    kind: ClassVar[str] = "se"
    prefix: ClassVar[str] = "se"
    block: ClassVar[type[nn.Module]] = SqueezeExcite
    rd_ratio: float | None = 0.25
    rd_channels: int | None = None
    activation: str | None = "relu"
    gate: str = "sigmoid"
    bias: bool = True

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(channels, size)`` after this block (both unchanged)."""
        return in_channels, size


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransitionSpec(BlockSpec):
    """A :class:`~tinyconv.Transition`: 1x1 channel squeeze plus max-pool.

    Args:
        out_channels: Channels after the 1x1 convolution.
        order: ``"pool-conv"`` or ``"conv-pool"``.
        pool_size: Max-pool kernel and stride.
        norm: BatchNorm after the 1x1 convolution.
        activation: Activation after the 1x1 convolution, or ``None``.
        dropout: Dropout after the 1x1 convolution.
        conv_order: Part order of the inner :class:`~tinyconv.ConvBlock`.

    Example:
        >>> TransitionSpec(out_channels=8).output(16, (24, 24))
        (8, (12, 12))
    """

    kind: ClassVar[str] = "transition"
    prefix: ClassVar[str] = "trans"
    block: ClassVar[type[nn.Module]] = Transition
    out_channels: int
    order: str = "pool-conv"
    pool_size: int = 2
    norm: bool = False
    activation: str | None = None
    dropout: float = 0.0
    conv_order: str = "conv-act-norm-drop"

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(out_channels, size)`` after the pool, checking that it fits."""
        if min(size) < self.pool_size:
            raise ValueError(
                f"{self.pool_size}x{self.pool_size} max-pool does not fit the "
                f"{size[0]}x{size[1]} feature map it meets; remove a downsampling layer"
            )
        return self.out_channels, (size[0] // self.pool_size, size[1] // self.pool_size)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GAPHeadSpec(BlockSpec):
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

    kind: ClassVar[str] = "gap_head"
    prefix: ClassVar[str] = "head"
    block: ClassVar[type[nn.Module]] = GAPHead
    is_head: ClassVar[bool] = True
    num_classes: int = 10
    mode: str = "pool-conv"
    use_conv: bool = True
    bias: bool = False

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(num_classes, (1, 1))``."""
        return self.num_classes, (1, 1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConvHeadSpec(BlockSpec):
    """A :class:`~tinyconv.ConvHead`: one conv covering the whole feature map.

    Args:
        num_classes: Logits produced.
        kernel_size: Kernel size; ``None`` takes the size of the (square) feature map.
        bias: Convolution bias.

    Example:
        >>> ConvHeadSpec(num_classes=10).make(16, (7, 7)).kernel_size
        7
    """

    kind: ClassVar[str] = "conv_head"
    prefix: ClassVar[str] = "head"
    block: ClassVar[type[nn.Module]] = ConvHead
    is_head: ClassVar[bool] = True
    num_classes: int = 10
    kernel_size: int | None = None
    bias: bool = False

    def output(self, in_channels: int, size: Size) -> tuple[int, Size]:
        """Return ``(num_classes, (1, 1))``, checking the kernel covers the feature map."""
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
        """Create the head, its kernel covering the ``size`` feature map."""
        return ConvHead(in_channels, self.num_classes, self._kernel_for(size), bias=self.bias)
