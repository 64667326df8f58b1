"""``Transition``: a 1x1 convolution that squeezes channels plus a 2x2 max-pool.

In the expand/squeeze pattern of tiny nets, 3x3 convolutions widen the feature
map and a transition both narrows it (1x1 conv) and halves its resolution
(max-pool), which doubles the receptive-field growth of the layers after it.
"""

from __future__ import annotations

from torch import nn

from tinyconv._checks import check_positive_int
from tinyconv.activations import ActivationLike
from tinyconv.blocks.conv_block import ConvBlock

TRANSITION_ORDERS = ("pool-conv", "conv-pool")


class Transition(nn.Sequential):
    r"""Squeeze channels with a 1x1 convolution and halve resolution with max-pooling.

    Children are named ``pool`` and ``conv`` (a :class:`ConvBlock` with a 1x1 kernel).

    Args:
        in_channels: Channels of the input feature map.
        out_channels: Channels after the 1x1 convolution.
        order: ``"pool-conv"`` (default; the 1x1 conv then runs on 4x fewer
            positions) or ``"conv-pool"``.
        pool_size: Max-pool kernel and stride.
        norm: Add BatchNorm after the 1x1 convolution.
        activation: Activation after the 1x1 convolution, or ``None`` (default).
        dropout: Dropout after the 1x1 convolution.
        conv_order: Part order of the inner :class:`ConvBlock`.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, \lfloor H/p \rfloor, \lfloor W/p \rfloor)`

    Example:
        >>> import torch
        >>> t = Transition(16, 8)
        >>> t(torch.zeros(2, 16, 24, 24)).shape
        torch.Size([2, 8, 12, 12])
        >>> sum(p.numel() for p in t.parameters())  # 16*8 weights, no bias
        128
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        order: str = "pool-conv",
        pool_size: int = 2,
        norm: bool = False,
        activation: ActivationLike = None,
        dropout: float = 0.0,
        conv_order: str = "conv-act-norm-drop",
    ) -> None:
        if order not in TRANSITION_ORDERS:
            raise ValueError(f"order must be one of {TRANSITION_ORDERS}, got {order!r}")
        check_positive_int("pool_size", pool_size)
        conv = ConvBlock(
            in_channels,
            out_channels,
            kernel_size=1,
            norm=norm,
            activation=activation,
            dropout=dropout,
            order=conv_order,
            bias=False,
        )
        pool = nn.MaxPool2d(pool_size)
        super().__init__()
        for part in order.split("-"):
            self.add_module(part, pool if part == "pool" else conv)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.order = order
        self.pool_size = pool_size
