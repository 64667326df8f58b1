"""Classifier heads that turn a feature map into class logits.

- :class:`GAPHead`: global average pooling plus a 1x1 convolution (or a linear
  layer), in either order. Both orders cost ``in_channels * num_classes``
  weights; pooling first is cheaper to run.
- :class:`ConvHead`: one plain convolution whose kernel covers the whole
  remaining feature map, as in classic skeleton nets before GAP.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from tinyconv._checks import check_positive_int
from tinyconv._tracing import is_tracing

GAP_MODES = ("pool-conv", "conv-pool")


class GAPHead(nn.Module):
    r"""Global average pooling and a 1x1 convolution to class logits.

    Args:
        in_channels: Channels of the input feature map.
        num_classes: Number of classes (logits produced).
        mode: ``"pool-conv"`` (pool, then map channels to classes; default) or
            ``"conv-pool"`` (map to classes per position, then pool).
        use_conv: Use a 1x1 ``nn.Conv2d`` (default) or an ``nn.Linear`` for the
            channel-to-class map; the parameter count is the same.
        bias: Whether the class map has a bias.

    Shape:
        - Input: :math:`(B, C_{in}, H, W)`
        - Output: :math:`(B, \text{num\_classes})` logits.

    Example:
        >>> import torch
        >>> head = GAPHead(16, 10)
        >>> head(torch.randn(4, 16, 6, 6)).shape
        torch.Size([4, 10])
        >>> sum(p.numel() for p in head.parameters())
        160
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        *,
        mode: str = "pool-conv",
        use_conv: bool = True,
        bias: bool = False,
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("num_classes", num_classes)
        if mode not in GAP_MODES:
            raise ValueError(f"mode must be one of {GAP_MODES}, got {mode!r}")
        if mode == "conv-pool" and not use_conv:
            raise ValueError("mode='conv-pool' maps every position to classes: use_conv=True")
        self.classifier: nn.Module = (
            nn.Conv2d(in_channels, num_classes, kernel_size=1, bias=bias)
            if use_conv
            else nn.Linear(in_channels, num_classes, bias=bias)
        )
        self.in_channels = in_channels
        self.out_channels = num_classes
        self.num_classes = num_classes
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""Map a feature map to class logits.

        Args:
            x: Feature map of shape :math:`(B, C_{in}, H, W)`.

        Returns:
            Logits of shape :math:`(B, \text{num\_classes})`.
        """
        if self.mode == "conv-pool":
            return self.classifier(x).mean(dim=(2, 3))  # b k h w -> b k
        if isinstance(self.classifier, nn.Linear):
            return self.classifier(x.mean(dim=(2, 3)))  # b c h w -> b c
        pooled = x.mean(dim=(2, 3), keepdim=True)  # b c h w -> b c 1 1
        return self.classifier(pooled).flatten(1)  # b k 1 1 -> b k

    def receptive_field_after(self, field: Any) -> Any:
        """Return ``field`` marked global: the average pool sees every position."""
        return dataclasses.replace(field, is_global=True)


class ConvHead(nn.Module):
    r"""A plain convolution whose kernel covers the whole feature map, giving logits.

    Args:
        in_channels: Channels of the input feature map.
        num_classes: Number of classes (logits produced).
        kernel_size: Must equal the spatial size of the feature map it meets, so
            the output is 1x1 (``tinyconv.build`` fills it in when omitted).
        bias: Whether the convolution has a bias.

    Shape:
        - Input: :math:`(B, C_{in}, k, k)`
        - Output: :math:`(B, \text{num\_classes})` logits.

    Example:
        >>> import torch
        >>> head = ConvHead(16, 10, kernel_size=7)
        >>> head(torch.randn(2, 16, 7, 7)).shape
        torch.Size([2, 10])
        >>> sum(p.numel() for p in head.parameters())  # 7*7*16*10
        7840
    """

    def __init__(
        self, in_channels: int, num_classes: int, kernel_size: int, *, bias: bool = False
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("num_classes", num_classes)
        check_positive_int("kernel_size", kernel_size)
        self.classifier = nn.Conv2d(in_channels, num_classes, kernel_size, bias=bias)
        self.in_channels = in_channels
        self.out_channels = num_classes
        self.num_classes = num_classes
        self.kernel_size = kernel_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""Map a ``kernel_size`` x ``kernel_size`` feature map to class logits.

        Args:
            x: Feature map of shape :math:`(B, C_{in}, k, k)`.

        Returns:
            Logits of shape :math:`(B, \text{num\_classes})`.

        Raises:
            ValueError: If the feature map is not ``kernel_size`` square (checked in eager
                mode; under tracing the convolution itself fails on a wrong size).
        """
        if not is_tracing(x) and tuple(x.shape[-2:]) != (
            self.kernel_size,
            self.kernel_size,
        ):
            raise ValueError(
                f"ConvHead expects a {self.kernel_size}x{self.kernel_size} feature map, "
                f"got {tuple(x.shape[-2:])}; set kernel_size to the feature map size"
            )
        return self.classifier(x).flatten(1)  # b k 1 1 -> b k
