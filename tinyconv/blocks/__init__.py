"""Composable building blocks: conv, depthwise-separable, squeeze-excite, transition, heads."""

from tinyconv.blocks.conv_block import ConvBlock
from tinyconv.blocks.depthwise_separable import DepthwiseSeparable
from tinyconv.blocks.heads import ConvHead, GAPHead
from tinyconv.blocks.squeeze_excite import SqueezeExcite, reduced_channels
from tinyconv.blocks.transition import Transition

__all__ = [
    "ConvBlock",
    "ConvHead",
    "DepthwiseSeparable",
    "GAPHead",
    "SqueezeExcite",
    "Transition",
    "reduced_channels",
]
