"""``DepthwiseSeparable``: a depthwise convolution, then a 1x1 convolution that mixes channels.

A full ``k x k`` convolution from ``C`` to ``C'`` channels has ``k*k*C*C'`` weights; the
depthwise-separable pair has ``k*k*C*m`` (one spatial filter per input channel, ``m`` per
channel with a multiplier) plus ``C*m*C'``. Under a parameter budget that buys wider
feature maps; on a microcontroller both halves map to kernels CMSIS-NN has (a depthwise
convolution with multiplier 1 and a 1x1 convolution).
"""

from __future__ import annotations

from torch import nn

from tinyconv._checks import check_positive_int
from tinyconv.activations import ActivationLike
from tinyconv.blocks.conv_block import ConvBlock


class DepthwiseSeparable(nn.Sequential):
    r"""A depthwise :class:`ConvBlock` followed by a pointwise (1x1) :class:`ConvBlock`.

    Children are named ``depthwise`` (``groups=in_channels``, ``multiplier`` filters per
    input channel) and ``pointwise``; each has the same norm, activation and part order.
    Dropout, if any, follows the pointwise half only.

    Args:
        in_channels: Channels of the input feature map.
        out_channels: Channels produced by the pointwise convolution.
        kernel_size: Square kernel size of the depthwise convolution.
        stride: Depthwise stride.
        padding: Depthwise zero padding on each side.
        dilation: Depthwise dilation.
        multiplier: Depthwise filters per input channel (the depthwise half produces
            ``in_channels * multiplier`` channels).
        norm: BatchNorm after each half.
        activation: Activation after each half, or ``None``.
        dropout: Dropout after the pointwise half.
        order: Part order of both halves (see :class:`ConvBlock`).

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, C_{out}, H', W')`, with :math:`H', W'` as for a
          :class:`ConvBlock` of the same kernel, stride, padding and dilation.

    Example:
        >>> import torch
        >>> block = DepthwiseSeparable(8, 16)
        >>> block(torch.zeros(2, 8, 12, 12)).shape
        torch.Size([2, 16, 10, 10])
        >>> sum(p.numel() for p in block.parameters())  # 8*9 + 2*8 BN, 8*16 + 2*16 BN
        248
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
        multiplier: int = 1,
        norm: bool = True,
        activation: ActivationLike = "relu",
        dropout: float = 0.0,
        order: str = "conv-act-norm-drop",
    ) -> None:
        check_positive_int("in_channels", in_channels)
        check_positive_int("multiplier", multiplier)
        width = in_channels * multiplier
        super().__init__()
        self.depthwise = ConvBlock(
            in_channels,
            width,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            norm=norm,
            activation=activation,
            order=order,
            groups=in_channels,
        )
        self.pointwise = ConvBlock(
            width,
            out_channels,
            kernel_size=1,
            norm=norm,
            activation=activation,
            dropout=dropout,
            order=order,
        )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.multiplier = multiplier
