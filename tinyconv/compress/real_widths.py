"""Specs from real widths: turn a model whose layers were narrowed into an ordinary TinyNet.

Structured pruning (:mod:`tinyconv.compress.prune`) removes channels from a model's
``nn.Conv2d``, ``nn.BatchNorm2d`` and ``nn.Linear`` layers in place, but leaves the specs
the model was built from, and the ``in_channels`` / ``out_channels`` its blocks remember,
as they were. :func:`specs_from_modules` reads every block's real width from its weights and
writes specs that describe them; :func:`rebuild` builds a fresh :class:`~tinyconv.TinyNet`
from those specs and loads the weights into it (strictly, so a spec that does not match its
weights fails here), carrying over the dataset, class names and normalisation. The result
saves, loads, summarises, checks its budget and exports like any other model.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from tinyconv.blocks import (
    ConvBlock,
    DepthwiseSeparable,
    SqueezeExcite,
    Transition,
    reduced_channels,
)
from tinyconv.compress.errors import PruneError
from tinyconv.model import TinyNet, build
from tinyconv.specs import BlockSpec, ConvSpec, DepthwiseSeparableSpec, SESpec, TransitionSpec

__all__ = ["block_widths", "rebuild", "specs_from_modules"]


def _conv_of(block: nn.Module) -> nn.Conv2d:
    """The convolution whose output channels are the block's width."""
    if isinstance(block, Transition):
        block = block.conv
    if isinstance(block, DepthwiseSeparable):
        block = block.pointwise  # the depthwise half follows the input's width
    if isinstance(block, ConvBlock):
        return block.conv  # type: ignore[return-value]
    if isinstance(block, SqueezeExcite):
        return block.reduce
    raise PruneError(f"{type(block).__name__} has no prunable width")


def block_widths(model: TinyNet) -> dict[str, int]:
    """Return each body block's real width, read from its weights.

    A conv block or transition reports the channels its convolution produces (a
    depthwise-separable block those of its 1x1 convolution), an SE block
    its bottleneck width; the head is left out (its classes are never pruned).

    Args:
        model: The model, pruned or not.

    Returns:
        Block name to width, in model order.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, SESpec
        >>> net = build([ConvSpec(out_channels=8), SESpec(rd_channels=2),
        ...              GAPHeadSpec(num_classes=3)])
        >>> block_widths(net)
        {'conv1': 8, 'se1': 2}
    """
    return {
        name: _conv_of(block).out_channels
        for name, block in model.named_children()
        if name != "head"
    }


def _respec(spec: BlockSpec, block: nn.Module, channels: int) -> BlockSpec:
    """``spec`` with the widths of ``block``, which meets ``channels`` input channels."""
    if isinstance(spec, ConvSpec | DepthwiseSeparableSpec | TransitionSpec):
        width = _conv_of(block).out_channels
        return spec if width == spec.out_channels else dataclasses.replace(spec, out_channels=width)
    if isinstance(spec, SESpec):
        width = _conv_of(block).out_channels
        try:
            unchanged = reduced_channels(channels, spec.rd_ratio, spec.rd_channels) == width
        except ValueError:  # a ratio that no longer divides the pruned channels
            unchanged = False
        return spec if unchanged else dataclasses.replace(spec, rd_ratio=None, rd_channels=width)
    return spec  # a head: its classes are untouched and its input width follows the body


def specs_from_modules(model: TinyNet) -> tuple[BlockSpec, ...]:
    """Return specs describing ``model``'s blocks at their real widths.

    A spec whose block kept its width is returned unchanged; a narrowed conv block or
    transition gets its new ``out_channels``, a narrowed SE block an explicit
    ``rd_channels`` (and no ratio, which would no longer divide its channels).

    Args:
        model: A TinyNet, possibly with channels removed from its layers.

    Returns:
        The specs, one per block, in order.

    Raises:
        PruneError: If ``model`` is not a TinyNet, or its blocks and specs do not pair up.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec
        >>> net = build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=3)])
        >>> specs_from_modules(net) == net.specs
        True
    """
    if not isinstance(model, TinyNet):
        raise PruneError(
            f"only a TinyNet (made by tinyconv.build or read by tinyconv.load) can be "
            f"respecified, got {type(model).__name__}"
        )
    blocks = list(model.children())
    if len(blocks) != len(model.specs):
        raise PruneError(
            f"the model has {len(blocks)} blocks but {len(model.specs)} specs; was a block "
            "added or removed by hand? Only channels may be removed"
        )
    specs, channels = [], model.in_channels
    for spec, block in zip(model.specs, blocks, strict=True):
        specs.append(_respec(spec, block, channels))
        if isinstance(spec, ConvSpec | DepthwiseSeparableSpec | TransitionSpec):
            channels = _conv_of(block).out_channels
    return tuple(specs)


def rebuild(model: TinyNet) -> TinyNet:
    """Return a fresh TinyNet whose specs describe ``model``'s real widths, with its weights.

    Args:
        model: A TinyNet whose layers may have been narrowed (it is not changed).

    Returns:
        A new model on the CPU, in ``model``'s training mode, with the same weights and
        buffers, dataset, class names and normalisation (the metadata is copied too; the
        caller says what changed).

    Raises:
        PruneError: If the real widths do not make a valid model, or the weights do not
            load into it (a layer narrowed in a way the specs cannot say).

    Example:
        >>> import torch
        >>> from tinyconv import ConvSpec, GAPHeadSpec
        >>> net = build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=3)], seed=0).eval()
        >>> x = torch.randn(2, 1, 28, 28)
        >>> torch.equal(rebuild(net)(x), net(x))
        True
    """
    specs = specs_from_modules(model)
    try:
        fresh = build(specs, in_channels=model.in_channels, input_size=model.input_size)
        state: dict[str, Any] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        fresh.load_state_dict(state)
    except (ValueError, RuntimeError) as error:
        raise PruneError(f"the pruned widths do not make a valid TinyNet: {error}") from error
    fresh.class_names = model.class_names
    fresh.normalization = model.normalization
    fresh.dataset = model.dataset
    fresh.metadata = dict(model.metadata)
    return fresh.train(model.training)
