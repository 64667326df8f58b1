"""Structured pruning to a parameter budget, on Torch-Pruning's dependency graph.

:func:`prune_to_budget` removes whole channels from a copy of a trained
:class:`~tinyconv.TinyNet` until it has at most ``max_params`` parameters, one channel per
step. Each step ranks every prunable channel with Torch-Pruning's
``GroupMagnitudeImportance`` (the L2 norm of all weights a channel owns across its coupled
layers, averaged over the group and divided by the group's mean, so layers compare on one
scale: Torch-Pruning's default "group magnitude" criterion), removes the least important one
through Torch-Pruning's ``DependencyGraph`` (which narrows the BatchNorm, the next layer's
input, an SE block's gate and the head's input with it), and ranks again on the weights as
they now are. Channels are removed while every layer keeps at least one: a convolution or
an SE bottleneck never reaches zero width, and the head's classes are never touched. A global
ranking may drain one layer to a single channel (it did to V5's second convolution on
FashionMNIST); ``max_pruning_ratio`` caps the fraction of each layer's channels that may go,
as Torch-Pruning's own pruners' argument of that name does. The
narrowed model is then rebuilt from its real widths (:func:`~tinyconv.compress.rebuild`), so
the result is an ordinary TinyNet. The input model is never changed.

Torch-Pruning is an optional extra (``pip install 'tinyconv[compress]'``), imported on
first use.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tinyconv._extras import require
from tinyconv.blocks import DepthwiseSeparable, SqueezeExcite
from tinyconv.compress.errors import PruneError
from tinyconv.compress.real_widths import block_widths, rebuild
from tinyconv.model import TinyNet
from tinyconv.parameters import count_parameters
from tinyconv.specs import ConvSpec, DepthwiseSeparableSpec, TransitionSpec

__all__ = ["CRITERION", "PruneResult", "prune_to_budget"]

CRITERION = (
    "torch_pruning.importance.GroupMagnitudeImportance(p=2, group_reduction='mean', "
    "normalizer='mean'), one channel per step, ranked globally and re-ranked after each step"
)
"""The importance criterion and schedule :func:`prune_to_budget` uses, as recorded in reports."""


@dataclass(frozen=True)
class PruneResult:
    """A pruned model and what pruning removed.

    Attributes:
        model: The pruned model, an ordinary TinyNet (on the CPU, in eval mode).
        params_before: Parameters of the input model.
        params_after: Parameters of the pruned model (at most the budget).
        widths_before: Body block widths of the input model (see
            :func:`~tinyconv.compress.block_widths`).
        widths_after: The same for the pruned model.
        steps: Channels removed (one per step).
        criterion: The importance criterion, in words.
        max_pruning_ratio: The largest fraction of any layer's channels that could go.
    """

    model: TinyNet
    params_before: int
    params_after: int
    widths_before: dict[str, int]
    widths_after: dict[str, int]
    steps: int
    criterion: str = field(default=CRITERION)
    max_pruning_ratio: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """Return everything but the model as JSON-able data."""
        return {
            "params_before": self.params_before,
            "params_after": self.params_after,
            "widths_before": dict(self.widths_before),
            "widths_after": dict(self.widths_after),
            "steps": self.steps,
            "criterion": self.criterion,
            "max_pruning_ratio": self.max_pruning_ratio,
        }


def fixed_layers(model: TinyNet) -> list[nn.Module]:
    """The layers whose output channels must never be pruned.

    The head's (its classes), and every layer whose output channels are the input images'
    channels, which pruning cannot remove: the gate of every SE block that meets the images
    before any convolution, and the depthwise half of a separable block that is the first
    convolution (its filters are the channels it reads).

    Args:
        model: The model being pruned.

    Returns:
        The modules to pass to Torch-Pruning as ignored layers.
    """
    fixed = list(model.head.modules())
    for spec, block in zip(model.specs, model.children(), strict=True):
        if isinstance(block, DepthwiseSeparable):
            fixed.append(block.depthwise.conv)
        if isinstance(spec, ConvSpec | DepthwiseSeparableSpec | TransitionSpec):
            break
        if isinstance(block, SqueezeExcite):
            fixed.append(block.expand)
    return fixed


def _unprunable_depthwise(model: TinyNet) -> set[nn.Module]:
    """The depthwise convolutions with several filters per input channel.

    Torch-Pruning removes their filters one at a time, which leaves an uneven number per
    channel (no spec can say that), so neither their filters nor the input channels they
    read are pruned. A depthwise half that reads the images is in :func:`fixed_layers`.
    """
    return {
        block.depthwise.conv
        for block in model.children()
        if isinstance(block, DepthwiseSeparable) and block.multiplier > 1
    }


def prunable_groups(
    graph: Any, model: TinyNet, floors: dict[nn.Module, int] | None = None
) -> list[Any]:
    """Torch-Pruning's groups of ``model`` whose channels may go, each above its floor.

    Args:
        graph: A ``torch_pruning.DependencyGraph`` built on ``model``.
        model: The model being pruned.
        floors: The fewest output channels each root layer keeps (default and at least 1).

    Returns:
        The groups, each holding every coupled layer of one root layer's output channels.
    """
    floors = floors or {}
    groups = graph.get_all_groups(
        ignored_layers=fixed_layers(model), root_module_types=[nn.Conv2d, nn.Linear]
    )
    whole = _unprunable_depthwise(model)
    return [
        group
        for group in groups
        if graph.is_out_channel_pruning_fn(group[0].dep.handler)
        and not any(item.dep.target.module in whole for item in group)
        # every layer keeps its floor, and always one channel
        and graph.get_out_channels(group[0].dep.target.module)
        > floors.get(group[0].dep.target.module, 1)
    ]


def _floors(graph: Any, model: TinyNet, max_pruning_ratio: float) -> dict[nn.Module, int]:
    """The fewest channels each prunable layer keeps: ``ceil(width * (1 - ratio))``, >= 1."""
    floors = {}
    for group in prunable_groups(graph, model):
        module = group[0].dep.target.module
        width = graph.get_out_channels(module)
        floors[module] = max(1, math.ceil(width * (1 - max_pruning_ratio) - 1e-9))
    return floors


def _least_important(
    graph: Any, importance: Any, model: TinyNet, floors: dict[nn.Module, int]
) -> Any:
    """The pruning group of the globally least important channel, or ``None`` if none left."""
    best: tuple[float, nn.Module, Any, int] | None = None
    for group in prunable_groups(graph, model, floors):
        scores = importance(group)
        if scores is None:
            continue
        index = int(torch.argmin(scores))
        score = float(scores[index])
        if best is None or score < best[0]:
            dep = group[0].dep
            best = (score, dep.target.module, dep.handler, index)
    if best is None:
        return None
    _, module, handler, index = best
    return graph.get_pruning_group(module, handler, [index])


def prune_to_budget(
    model: TinyNet, max_params: int, *, max_pruning_ratio: float = 1.0
) -> PruneResult:
    """Remove the least important channels of a copy of ``model`` until it fits ``max_params``.

    Args:
        model: A trained TinyNet (not changed).
        max_params: The budget; a model already within it is returned rebuilt but unpruned.
        max_pruning_ratio: The largest fraction of each layer's channels that may go, in
            (0, 1]; a layer of width w keeps at least ``ceil(w * (1 - ratio))`` channels,
            and always one. The default 1.0 limits nothing but that one channel.

    Returns:
        The pruned model (an ordinary TinyNet, on the CPU in eval mode, keeping the
        dataset, class names, normalisation and metadata) and what was removed.

    Raises:
        PruneError: If ``max_params`` is not a positive int, ``max_pruning_ratio`` is not
            in (0, 1], ``model`` is not a TinyNet, or even with every prunable layer at
            its floor it has more than ``max_params`` parameters.
        MissingExtraError: If Torch-Pruning is not installed.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=8), ConvSpec(out_channels=16),
        ...              GAPHeadSpec(num_classes=10)], seed=0)
        >>> result = prune_to_budget(net, 1000)
        >>> result.params_before, result.params_after <= 1000
        (1432, True)
        >>> result.model.specs[1].out_channels == result.widths_after["conv2"]
        True
    """
    if isinstance(max_params, bool) or not isinstance(max_params, int) or max_params < 1:
        raise PruneError(f"max_params must be a positive integer, got {max_params!r}")
    if (
        isinstance(max_pruning_ratio, bool)
        or not isinstance(max_pruning_ratio, int | float)
        or not 0 < max_pruning_ratio <= 1
    ):
        raise PruneError(
            f"max_pruning_ratio must be in (0, 1] (the largest fraction of a layer's channels "
            f"that may go), got {max_pruning_ratio!r}"
        )
    if not isinstance(model, TinyNet):
        raise PruneError(
            f"prune_to_budget needs a TinyNet (made by tinyconv.build or read by "
            f"tinyconv.load), got {type(model).__name__}"
        )
    tp = require("torch_pruning", "compress")
    work = copy.deepcopy(model).cpu().eval()
    before, widths_before = count_parameters(work), block_widths(work)
    example = torch.zeros(1, *work.input_shape)
    graph = tp.DependencyGraph().build_dependency(work, example_inputs=example)
    importance = tp.importance.GroupMagnitudeImportance(p=2)
    floors = _floors(graph, work, max_pruning_ratio)
    steps = 0
    with torch.no_grad():
        while count_parameters(work) > max_params:
            group = _least_important(graph, importance, work, floors)
            if group is None:
                floor = (
                    "one channel left in every prunable layer"
                    if max_pruning_ratio == 1
                    else f"at most {max_pruning_ratio:g} of every layer's channels removed"
                )
                fix = "" if max_pruning_ratio == 1 else ", raise --max-pruning-ratio"
                raise PruneError(
                    f"cannot prune to {max_params:,} parameters: with {floor} the model still "
                    f"has {count_parameters(work):,} (it had {before:,}); raise --max-params"
                    f"{fix} or start from a smaller architecture"
                )
            group.prune()
            steps += 1
    pruned = rebuild(work).eval()
    return PruneResult(
        model=pruned,
        params_before=before,
        params_after=count_parameters(pruned),
        widths_before=widths_before,
        widths_after=block_widths(pruned),
        steps=steps,
        max_pruning_ratio=max_pruning_ratio,
    )
