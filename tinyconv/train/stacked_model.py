"""``StackedNet``: K TinyNets of the same specs computed as one network with grouped layers.

:func:`stack_models` turns K models into one: every ``Conv2d`` becomes a grouped convolution
(``groups=K`` times its own groups) whose channels are stacked seed-major (seed 0's channels
first), every ``BatchNorm2d`` covers ``K * C`` channels (so its statistics stay per seed),
the SE block's 1x1 convolutions and the heads are grouped the same way (a GAP head's
``Linear`` becomes a grouped 1x1 convolution), and every ``Dropout`` becomes a
:class:`StackedDropout`, which can draw each seed's mask from that seed's own generator.
Weights are copied exactly; :func:`unstack_models` copies them back into K TinyNets.
Activations, pooling and the SE gate act per channel, so they need no change.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from einops import rearrange, repeat
from torch import Tensor, nn

from tinyconv.blocks.heads import GAPHead
from tinyconv.model import TinyNet, build
from tinyconv.train.hash_dropout import HashDropout
from tinyconv.train.stacked_dropout import DropoutStreams, StackedDropout

_MEMBER_ATTRIBUTES = ("class_names", "normalization", "dataset", "metadata")


class StackedNet(nn.Sequential):
    r"""K TinyNets of the same specs as one network; build it with :func:`stack_models`.

    Children carry the TinyNet's names (``conv1``, ``se1``, ``trans1``, ``head``).

    Attributes:
        stack_size: Number of stacked models K.
        specs, in_channels, input_size, num_classes: Those of each stacked model.
        member_attributes: Each model's ``class_names``, ``normalization``, ``dataset`` and
            ``metadata``, restored by :func:`unstack_models`.

    Shape:
        - Input: :math:`(B, K \cdot C_{in}, H, W)`, seed-major (see :meth:`stack_inputs`).
        - Output: :math:`(B, K, \text{num\_classes})` logits, one row per seed.
    """

    def __init__(
        self, blocks: OrderedDict[str, nn.Module], template: TinyNet, stack_size: int
    ) -> None:
        super().__init__(blocks)
        self.stack_size = stack_size
        self.specs = template.specs
        self.in_channels = template.in_channels
        self.input_size = template.input_size
        self.num_classes = template.num_classes
        self.member_attributes: list[dict[str, Any]] = []

    def forward(self, x: Tensor) -> Tensor:
        """Return logits of shape ``(B, K, num_classes)`` for stacked inputs."""
        return rearrange(super().forward(x), "b (k classes) -> b k classes", k=self.stack_size)

    def stack_inputs(self, images: Sequence[Tensor]) -> Tensor:
        """Stack one ``(B, C, H, W)`` batch per seed along channels, seed-major."""
        if len(images) != self.stack_size:
            raise ValueError(f"got {len(images)} batches for {self.stack_size} stacked models")
        return rearrange(list(images), "k b c h w -> b (k c) h w")

    def repeat_input(self, x: Tensor) -> Tensor:
        """Feed the same ``(B, C, H, W)`` batch to every seed (for evaluation)."""
        return repeat(x, "b c h w -> b (k c) h w", k=self.stack_size)

    def seed_dropout(self, seeds: Sequence[int]) -> None:
        """Draw each seed's dropout masks from its own stream, as a separate run would."""
        if len(seeds) != self.stack_size:
            raise ValueError(f"got {len(seeds)} seeds for {self.stack_size} stacked models")
        self.streams = DropoutStreams(seeds)
        for module in self.modules():
            if isinstance(module, StackedDropout):
                module.streams = self.streams

    def dropout_streams_state(self) -> dict[str, object] | None:
        """The per-seed dropout streams' state (see :meth:`seed_dropout`), or ``None``."""
        streams = getattr(self, "streams", None)
        return None if streams is None else streams.state_dict()

    def load_dropout_streams_state(self, state: dict[str, object] | None, device: object) -> None:
        """Continue the dropout streams saved by :meth:`dropout_streams_state`."""
        streams = getattr(self, "streams", None)
        if state is not None and streams is not None:
            streams.load_state_dict(state, torch.device(device))  # type: ignore[arg-type]


def stack_models(models: Sequence[TinyNet]) -> StackedNet:
    """Stack K TinyNets of the same specs into one :class:`StackedNet`, copying weights exactly.

    Args:
        models: The models, in the order their seeds are stacked.

    Returns:
        The stacked network, on the first model's device, in its training mode.

    Raises:
        ValueError: If no model is given, the models differ in specs or input, or a layer
            holds parameters of a kind that cannot be stacked (the message names it).

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec
        >>> specs = [ConvSpec(out_channels=4), GAPHeadSpec(num_classes=10)]
        >>> nets = [build(specs, seed=s) for s in (0, 1, 2)]
        >>> stacked = stack_models(nets)
        >>> x = torch.randn(2, 1, 28, 28)
        >>> logits = stacked(stacked.stack_inputs([x, x, x]))
        >>> logits.shape, torch.allclose(logits[:, 1], nets[1](x), atol=1e-6)
        (torch.Size([2, 3, 10]), True)
    """
    models = list(models)
    if not models:
        raise ValueError("stack_models needs at least one model")
    first = models[0]
    for index, model in enumerate(models):
        if not isinstance(model, TinyNet):
            raise ValueError(f"model {index} is a {type(model).__name__}, not a TinyNet")
        same = (model.specs, model.in_channels, model.input_size) == (
            first.specs,
            first.in_channels,
            first.input_size,
        )
        if not same:
            raise ValueError(
                f"model {index} was built from other specs or for another input than model 0; "
                "only models of one recipe can be stacked"
            )
    blocks = OrderedDict(
        (name, _stack_block(name, [model.get_submodule(name) for model in models]))
        for name, _ in first.named_children()
    )
    stacked = StackedNet(blocks, first, len(models))
    stacked.member_attributes = [
        {key: copy.deepcopy(getattr(model, key)) for key in _MEMBER_ATTRIBUTES} for model in models
    ]
    return stacked.train(first.training)


def unstack_models(stacked: StackedNet, into: Sequence[TinyNet] | None = None) -> list[TinyNet]:
    """Copy each seed's weights and statistics out of ``stacked`` into K TinyNets.

    Args:
        stacked: A network made by :func:`stack_models`.
        into: K models of the same specs to copy into (in place); ``None`` builds fresh
            ones on the stacked network's device, with the attributes saved when stacking.

    Returns:
        The K models, in stacking order, in the stacked network's training mode.

    Raises:
        ValueError: If ``into`` does not hold K models of the stacked specs.
    """
    device = next(stacked.parameters()).device
    if into is None:
        models = []
        for attributes in stacked.member_attributes or [{}] * stacked.stack_size:
            model = build(
                stacked.specs,
                in_channels=stacked.in_channels,
                input_size=stacked.input_size,
                seed=0,  # any seed: every weight is overwritten below; the global RNG is kept
            ).to(device)
            for key, value in attributes.items():
                setattr(model, key, copy.deepcopy(value))
            models.append(model)
    else:
        models = list(into)
        if len(models) != stacked.stack_size or any(m.specs != stacked.specs for m in models):
            raise ValueError(f"into must hold {stacked.stack_size} models of the stacked specs")
    with torch.no_grad():
        for index, model in enumerate(models):
            for name, module in model.named_modules():
                if name:
                    _copy_member(module, stacked.get_submodule(name), index)
            model.train(stacked.training)
    return models


def _stack_block(name: str, peers: list[nn.Module]) -> nn.Module:
    stacked = copy.deepcopy(peers[0])
    for path, module in list(peers[0].named_modules()):
        members = [peer.get_submodule(path) for peer in peers]
        parent = stacked.get_submodule(path.rpartition(".")[0]) if path else None
        if isinstance(module, nn.Conv2d):
            replacement: nn.Module = _stack_conv(members)
        elif isinstance(module, nn.BatchNorm2d):
            replacement = _stack_norm(members, f"{name}.{path}")
        elif isinstance(module, nn.Linear) and isinstance(parent, GAPHead):
            replacement = _stack_conv([_linear_as_conv(member) for member in members])
        elif isinstance(module, nn.Dropout):
            masks = "hash" if isinstance(module, HashDropout) else "torch"
            replacement = StackedDropout(module.p, len(peers), masks=masks)
        elif any(True for _ in module.parameters(recurse=False)) or any(
            True for _ in module.buffers(recurse=False)
        ):
            raise ValueError(
                f"cannot stack layer {name}.{path} ({type(module).__name__}): only Conv2d, "
                "BatchNorm2d and a GAP head's Linear may hold parameters or buffers"
            )
        else:
            continue
        if not path:
            return replacement
        setattr(parent, path.rpartition(".")[2], replacement)
    return stacked


def _stack_conv(members: list[nn.Conv2d]) -> nn.Conv2d:
    first, count = members[0], len(members)
    conv = nn.Conv2d(
        first.in_channels * count,
        first.out_channels * count,
        first.kernel_size,  # type: ignore[arg-type]
        stride=first.stride,  # type: ignore[arg-type]
        padding=first.padding,  # type: ignore[arg-type]
        dilation=first.dilation,  # type: ignore[arg-type]
        groups=first.groups * count,
        bias=first.bias is not None,
        padding_mode=first.padding_mode,
        device=first.weight.device,
        dtype=first.weight.dtype,
    )
    with torch.no_grad():
        conv.weight.copy_(torch.cat([m.weight for m in members]))
        if conv.bias is not None:
            conv.bias.copy_(torch.cat([m.bias for m in members]))  # type: ignore[misc]
    return conv


def _linear_as_conv(linear: nn.Linear) -> nn.Conv2d:
    conv = nn.Conv2d(linear.in_features, linear.out_features, 1, bias=linear.bias is not None)
    with torch.no_grad():
        conv.weight.copy_(linear.weight[:, :, None, None])
        if linear.bias is not None:
            conv.bias.copy_(linear.bias)  # type: ignore[union-attr]
    return conv.to(linear.weight.device)


def _stack_norm(members: list[nn.BatchNorm2d], where: str) -> nn.BatchNorm2d:
    first = members[0]
    norm = nn.BatchNorm2d(
        first.num_features * len(members),
        eps=first.eps,
        momentum=first.momentum,
        affine=first.affine,
        track_running_stats=first.track_running_stats,
    ).to(next(first.buffers(), torch.empty(0)).device)
    with torch.no_grad():
        for key in ("weight", "bias", "running_mean", "running_var"):
            if getattr(norm, key) is not None:
                getattr(norm, key).copy_(torch.cat([getattr(m, key) for m in members]))
        if first.num_batches_tracked is not None:
            counts = {int(m.num_batches_tracked) for m in members}  # type: ignore[arg-type]
            if len(counts) > 1:
                raise ValueError(
                    f"cannot stack {where}: its BatchNorm has seen {sorted(counts)} batches in "
                    "the different models; stack models trained for the same number of steps"
                )
            norm.num_batches_tracked.copy_(first.num_batches_tracked)  # type: ignore[union-attr]
    return norm


def _copy_member(target: nn.Module, source: nn.Module, index: int) -> None:
    """Copy seed ``index``'s slice of a stacked layer into the single model's layer."""
    if isinstance(target, nn.Conv2d | nn.Linear):
        rows = target.weight.shape[0]
        weight = source.weight[index * rows : (index + 1) * rows]  # type: ignore[index]
        target.weight.copy_(weight.reshape(target.weight.shape))
        if target.bias is not None:
            target.bias.copy_(source.bias[index * rows : (index + 1) * rows])  # type: ignore[index]
    elif isinstance(target, nn.BatchNorm2d):
        size = target.num_features
        for key in ("weight", "bias", "running_mean", "running_var"):
            if getattr(target, key) is not None:
                getattr(target, key).copy_(getattr(source, key)[index * size : (index + 1) * size])
        if target.num_batches_tracked is not None:
            target.num_batches_tracked.copy_(source.num_batches_tracked)  # type: ignore[arg-type]
