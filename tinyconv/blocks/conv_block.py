"""``ConvBlock``: convolution with optional BatchNorm, activation and dropout.

The order of the four parts is configurable, because tiny MNIST nets are often
written Conv -> ReLU -> BN -> Dropout (the default here), while most modern
nets use Conv -> BN -> ReLU.
"""

from __future__ import annotations

from torch import nn

from tinyconv._checks import check_non_negative_int, check_positive_int, check_probability
from tinyconv.activations import ActivationLike, make_activation

PARTS = ("conv", "norm", "act", "drop")


def parse_order(order: str) -> tuple[str, ...]:
    """Split an order string such as ``"conv-act-norm-drop"`` into its parts.

    Args:
        order: The names ``conv``, ``norm``, ``act`` and ``drop``, each exactly once,
            joined by ``-``.

    Returns:
        The four part names in order.

    Raises:
        ValueError: If a part is missing, repeated or unknown.

    Example:
        >>> parse_order("conv-norm-act-drop")
        ('conv', 'norm', 'act', 'drop')
    """
    parts = tuple(order.split("-"))
    if sorted(parts) != sorted(PARTS):
        raise ValueError(
            f"order must name each of {'/'.join(PARTS)} exactly once, joined by '-' "
            f"(e.g. 'conv-act-norm-drop' or 'conv-norm-act-drop'), got {order!r}"
        )
    return parts


class ConvBlock(nn.Sequential):
    r"""A 2-D convolution followed by optional BatchNorm, activation and dropout.

    Parts that are switched off (``norm=False``, ``activation=None``,
    ``dropout=0``) are not created, so they cost no parameters and no time.
    Children are named ``conv``, ``norm``, ``act`` and ``drop``.

    Args:
        in_channels: Channels of the input feature map.
        out_channels: Channels produced by the convolution.
        kernel_size: Square kernel size.
        stride: Convolution stride.
        padding: Zero padding on each side.
        dilation: Kernel dilation.
        norm: Add a ``BatchNorm2d`` over ``out_channels`` (2 affine parameters
            per channel; its running statistics are buffers, not parameters).
        activation: Activation name (see :data:`tinyconv.ACTIVATIONS`),
            ``nn.Module`` subclass, or ``None``.
        dropout: Probability of ``nn.Dropout``; ``0`` adds no dropout layer.
        order: Order of the parts, e.g. ``"conv-act-norm-drop"`` (default) or
            ``"conv-norm-act-drop"``.
        bias: Whether the convolution has a bias. ``None`` (default) means
            "no bias when a norm is present", since BatchNorm's shift makes it
            redundant.
        groups: Convolution groups: each of ``groups`` slices of the input channels
            feeds its own slice of the outputs (``in_channels`` groups make a
            depthwise convolution). Both channel counts must be multiples of it.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, H', W')` with
          :math:`H' = \lfloor (H + 2p - d(k-1) - 1) / s \rfloor + 1` (same for W).

    Example:
        >>> import torch
        >>> block = ConvBlock(1, 8, kernel_size=3, dropout=0.1)
        >>> block(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 8, 26, 26])
        >>> sum(p.numel() for p in block.parameters())  # 3*3*1*8 weights + 2*8 BN affine
        88
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        norm: bool = True,
        activation: ActivationLike = "relu",
        dropout: float = 0.0,
        order: str = "conv-act-norm-drop",
        bias: bool | None = None,
        groups: int = 1,
    ) -> None:
        check_positive_int("in_channels", in_channels)
        check_positive_int("out_channels", out_channels)
        check_positive_int("kernel_size", kernel_size)
        check_positive_int("stride", stride)
        check_positive_int("dilation", dilation)
        check_non_negative_int("padding", padding)
        check_probability("dropout", dropout)
        check_positive_int("groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"groups={groups} must divide both in_channels={in_channels} and "
                f"out_channels={out_channels}; choose channel counts that are multiples of it"
            )
        parts = parse_order(order)
        conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=(not norm) if bias is None else bias,
        )
        available = {
            "conv": conv,
            "norm": nn.BatchNorm2d(out_channels) if norm else None,
            "act": make_activation(activation),
            "drop": nn.Dropout(dropout) if dropout > 0 else None,
        }
        super().__init__()
        for part in parts:
            if available[part] is not None:
                self.add_module(part, available[part])
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.order = "-".join(parts)
