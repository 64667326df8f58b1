"""``build`` and ``TinyNet``: turn a sequence of block specs into a checked model.

``build`` threads channels and feature-map sizes through the specs, checks each
block against what it meets (naming the layer index on failure), and returns a
:class:`TinyNet`, an ``nn.Sequential`` that remembers its specs and input size
and rejects inputs of the wrong shape with a readable message.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from tinyconv._checks import check_positive_int
from tinyconv.specs import BLOCK_SPECS, HEAD_SPECS, BlockSpec, Size


class TinyNet(nn.Sequential):
    r"""A sequential CNN built from block specs, with an input-shape check.

    Children are named by kind and position: ``conv1``, ``conv2``, ``se1``,
    ``trans1``, ..., ``head``. Build one with :func:`build`.

    Args:
        blocks: Named blocks, in order.
        specs: The specs the blocks were made from.
        in_channels: Channels of the expected input.
        input_size: ``(height, width)`` of the expected input.
        num_classes: Logits produced by the head.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)` with ``(H, W) == input_size``.
        - Output: :math:`(B, \text{num\_classes})` logits.

    Example:
        >>> import torch
        >>> from tinyconv import ConvSpec, GAPHeadSpec
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=10)])
        >>> net.in_channels, net.input_size, net.num_classes
        (1, (28, 28), 10)
        >>> net(torch.zeros(1, 28, 28))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: TinyNet expects input of shape (B, 1, 28, 28), got (1, 28, 28); add a batch ...
    """

    def __init__(
        self,
        blocks: OrderedDict[str, nn.Module],
        *,
        specs: tuple[BlockSpec, ...],
        in_channels: int,
        input_size: Size,
        num_classes: int,
    ) -> None:
        super().__init__(blocks)
        self.specs = specs
        self.in_channels = in_channels
        self.input_size = input_size
        self.num_classes = num_classes
        self.out_channels = num_classes

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` has shape ``(B, in_channels, *input_size)``.

        Args:
            x: A batch of images.

        Raises:
            ValueError: Naming the expected and the received shape.
        """
        expected = (self.in_channels, *self.input_size)
        if x.ndim == 4 and tuple(x.shape[1:]) == expected:
            return
        want = f"(B, {', '.join(map(str, expected))})"
        hint = ""
        if x.ndim == 3 and tuple(x.shape) == expected:
            hint = "; add a batch dimension with x.unsqueeze(0)"
        elif x.ndim == 4 and x.shape[1] != self.in_channels:
            hint = f"; the model was built with in_channels={self.in_channels}"
        elif x.ndim == 4:
            hint = f"; the model was built with input_size={self.input_size}"
        raise ValueError(f"TinyNet expects input of shape {want}, got {tuple(x.shape)}{hint}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""Return class logits for a batch of images.

        Args:
            x: Images of shape :math:`(B, C_{in}, H, W)`.

        Returns:
            Logits of shape :math:`(B, \text{num\_classes})`.
        """
        self.check_input(x)
        return super().forward(x)


def build(
    specs: Sequence[BlockSpec],
    *,
    in_channels: int = 1,
    input_size: Size = (28, 28),
    num_classes: int | None = None,
) -> TinyNet:
    """Build a :class:`TinyNet` from block specs, checking every block as it goes.

    Args:
        specs: Block specs in order; the last must be a head
            (:class:`~tinyconv.specs.GAPHeadSpec` or :class:`~tinyconv.specs.ConvHeadSpec`).
        in_channels: Channels of the input images.
        input_size: ``(height, width)`` of the input images.
        num_classes: If given, the head must produce exactly this many logits.

    Returns:
        The model, in training mode, with freshly initialised weights.

    Raises:
        ValueError: For an empty spec list, an unknown spec type, a non-positive
            channel count, a kernel or pool larger than the feature map it meets,
            a head that is missing, misplaced or of the wrong ``num_classes``.
            The message names the layer index.

    Example:
        >>> from tinyconv.specs import ConvSpec, GAPHeadSpec, SESpec, TransitionSpec
        >>> model = build([
        ...     ConvSpec(out_channels=8),
        ...     ConvSpec(out_channels=16),
        ...     SESpec(rd_channels=4),
        ...     TransitionSpec(out_channels=8),
        ...     ConvSpec(out_channels=16),
        ...     GAPHeadSpec(num_classes=10),
        ... ])
        >>> [name for name, _ in model.named_children()]
        ['conv1', 'conv2', 'se1', 'trans1', 'conv3', 'head']
        >>> import torch
        >>> model(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    specs = tuple(specs)
    check_positive_int("in_channels", in_channels)
    if not isinstance(input_size, Sequence) or len(input_size) != 2:
        raise ValueError(f"input_size must be (height, width), got {input_size!r}")
    for side in input_size:
        check_positive_int("input_size", side)
    if not specs:
        raise ValueError("specs is empty; a model needs at least a head spec")
    blocks: OrderedDict[str, nn.Module] = OrderedDict()
    counts: dict[str, int] = {}
    channels, size = in_channels, tuple(input_size)
    for index, spec in enumerate(specs):
        label = f"layer {index} ({type(spec).__name__})"
        if not isinstance(spec, BLOCK_SPECS):
            known = ", ".join(cls.__name__ for cls in BLOCK_SPECS)
            raise ValueError(f"layer {index}: unknown spec type {type(spec).__name__}; use {known}")
        is_last = index == len(specs) - 1
        if isinstance(spec, HEAD_SPECS) != is_last:
            where = "is a head but not the last layer" if not is_last else "must be a head"
            raise ValueError(
                f"{label} {where}; a TinyNet ends with exactly one GAPHeadSpec or ConvHeadSpec"
            )
        try:
            out_channels, out_size = spec.output(channels, size)
            module = spec.make(channels, size)
        except ValueError as error:
            raise ValueError(f"{label} at {channels}x{size[0]}x{size[1]}: {error}") from error
        if is_last and num_classes is not None and out_channels != num_classes:
            raise ValueError(
                f"{label} produces {out_channels} logits but num_classes={num_classes}; "
                f"set the head's num_classes={num_classes}"
            )
        counts[spec.kind] = counts.get(spec.kind, 0) + 1
        name = "head" if spec.kind == "head" else f"{spec.kind}{counts[spec.kind]}"
        blocks[name] = module
        channels, size = out_channels, out_size
    return TinyNet(
        blocks,
        specs=specs,
        in_channels=in_channels,
        input_size=(int(input_size[0]), int(input_size[1])),
        num_classes=channels,
    )
