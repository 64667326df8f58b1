"""``SqueezeExcite``: squeeze-and-excitation channel attention (Hu et al., 2018).

Global average pooling squeezes each channel to one number, a bottleneck of two
1x1 convolutions turns those into one gate in (0, 1) per channel, and the input
is rescaled channel by channel. The bottleneck width is given exactly, either as
a ratio that must divide the channel count or as explicit channels: nothing is
rounded up behind the caller's back, since every parameter counts here.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tinyconv._checks import check_positive_int
from tinyconv.activations import ActivationLike, make_activation, resolve_activation


def reduced_channels(channels: int, rd_ratio: float | None, rd_channels: int | None) -> int:
    """Return the bottleneck width of a squeeze-and-excitation block.

    Args:
        channels: Channels of the feature map being gated.
        rd_ratio: Bottleneck width as a fraction of ``channels``; ``channels * rd_ratio``
            must be a whole number. Ignored when ``rd_channels`` is given.
        rd_channels: Explicit bottleneck width; overrides ``rd_ratio``.

    Returns:
        The bottleneck width, a positive integer.

    Raises:
        ValueError: If neither is given, or the ratio does not give a whole,
            positive number of channels.

    Example:
        >>> reduced_channels(16, 0.25, None)
        4
        >>> reduced_channels(16, None, 3)
        3
    """
    check_positive_int("channels", channels)
    if rd_channels is not None:
        return check_positive_int("rd_channels", rd_channels)
    if rd_ratio is None:
        raise ValueError("give either rd_ratio or rd_channels for the SE bottleneck")
    exact = channels * rd_ratio
    width = round(exact)
    if width < 1 or abs(exact - width) > 1e-9:
        lower, upper = int(exact), int(exact) + 1
        options = f"rd_channels={lower} or rd_channels={upper}" if lower >= 1 else "rd_channels=1"
        raise ValueError(
            f"rd_ratio={rd_ratio} of {channels} channels gives {exact:g} bottleneck channels, "
            f"not a positive whole number; pass {options} explicitly "
            "(tinyconv never rounds channel counts silently)"
        )
    return width


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation: rescale each channel by a learned, input-dependent gate.

    With bias on both 1x1 convolutions it costs ``2 * channels * rd + rd + channels``
    parameters, where ``rd`` is the bottleneck width.

    Args:
        channels: Channels of the input (and output).
        rd_ratio: Bottleneck width as a fraction of ``channels``; must give a whole
            number of channels. Ignored when ``rd_channels`` is given.
        rd_channels: Explicit bottleneck width.
        activation: Activation inside the bottleneck (name, class or ``None``).
        gate: Gate activation squashing to (0, 1) (name or class), ``"sigmoid"`` by default.
        bias: Whether the two 1x1 convolutions have biases.

    Shape:
        - Input: :math:`(B, C, H, W)`
        - Output: :math:`(B, C, H, W)`, the input times a gate of shape :math:`(B, C, 1, 1)`.

    Example:
        >>> import torch
        >>> se = SqueezeExcite(16, rd_ratio=0.25)
        >>> se(torch.randn(2, 16, 8, 8)).shape
        torch.Size([2, 16, 8, 8])
        >>> sum(p.numel() for p in se.parameters())  # 16*4 + 4 + 4*16 + 16
        148
    """

    def __init__(
        self,
        channels: int,
        rd_ratio: float | None = 0.25,
        rd_channels: int | None = None,
        *,
        activation: ActivationLike = "relu",
        gate: ActivationLike = "sigmoid",
        bias: bool = True,
    ) -> None:
        super().__init__()
        width = reduced_channels(channels, rd_ratio, rd_channels)
        if resolve_activation(gate) is None:
            raise ValueError("gate must be an activation such as 'sigmoid', not None")
        self.reduce = nn.Conv2d(channels, width, kernel_size=1, bias=bias)
        self.act = make_activation(activation) or nn.Identity()
        self.expand = nn.Conv2d(width, channels, kernel_size=1, bias=bias)
        self.gate = make_activation(gate)
        self.in_channels = channels
        self.out_channels = channels
        self.rd_channels = width

    def gates(self, x: torch.Tensor) -> torch.Tensor:
        """Return the per-channel gates for ``x``.

        Args:
            x: Feature map of shape :math:`(B, C, H, W)`.

        Returns:
            Gates of shape :math:`(B, C)`, each in (0, 1) for a sigmoid gate.
        """
        return self._gate_map(x).flatten(1)  # b c 1 1 -> b c

    def _gate_map(self, x: torch.Tensor) -> torch.Tensor:
        squeezed = x.mean(dim=(2, 3), keepdim=True)  # b c h w -> b c 1 1
        return self.gate(self.expand(self.act(self.reduce(squeezed))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rescale each channel of ``x`` by its gate.

        Args:
            x: Feature map of shape :math:`(B, C, H, W)`.

        Returns:
            Tensor of the same shape as ``x``.
        """
        return x * self._gate_map(x)

    def receptive_field_after(self, field: Any) -> Any:
        """Return ``field`` unchanged: the gate rescales channels, the path is the identity."""
        return field
