"""Composable building blocks: conv blocks, squeeze-and-excitation, transitions, heads."""

from tinyconv.blocks.conv_block import ConvBlock
from tinyconv.blocks.heads import ConvHead, GAPHead
from tinyconv.blocks.squeeze_excite import SqueezeExcite, reduced_channels
from tinyconv.blocks.transition import Transition

__all__ = ["ConvBlock", "ConvHead", "GAPHead", "SqueezeExcite", "Transition", "reduced_channels"]
