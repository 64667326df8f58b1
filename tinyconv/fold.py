"""``fold_batchnorm``: fold every BatchNorm into a neighbouring layer where that is exact.

What a deployed graph keeps of a model's BatchNorms: the export folds them before
conversion (:mod:`tinyconv.export`), and the device estimates
(:mod:`tinyconv.device_estimate`) count the operators the folded graph keeps.

In eval mode a BatchNorm is a per-channel affine map ``y = s * x + t`` with
``s = gamma / sqrt(running_var + eps)`` and ``t = beta - running_mean * s``. Such a map
can move into a neighbouring linear layer without changing the model's function:

- **Conv -> BN**: into that convolution's output channels (``W' = s W``,
  ``b' = s (b - mean) + beta``). Always exact.
- **BN -> Conv** (the default ``conv-act-norm-drop`` order puts BN after the ReLU, so
  the next convolution follows): into the next convolution's *input* channels
  (``W' = W s``, ``b' = b + sum W t``), exact only when that convolution has no zero
  padding, since a padded border would see ``0`` where the unfolded model sees ``t``.
- **BN -> max-pool -> Conv**: ``maxpool(s x + t) = s maxpool(x) + t`` only when every
  scale ``s`` is positive, so the fold goes through the pool only then.
- **BN -> mean -> classifier** (a :class:`~tinyconv.GAPHead`): the mean is linear, so the
  fold goes into the 1x1 convolution or linear classifier; a classifier without a bias
  gains one in the folded copy.

Dropout and identities in between are transparent in eval mode. A BatchNorm whose output
feeds more than one operation (a :class:`~tinyconv.SqueezeExcite` multiplies the map by a
gate computed from it), or anything else, stays as it is, and the :class:`FoldReport`
says which and why. The dataflow comes from ``torch.fx.symbolic_trace``; the input model
is never modified.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
import torch.fx
from torch import nn

from tinyconv.errors import ModelGraphError

__all__ = ["FoldDecision", "FoldReport", "fold_batchnorm"]

_TRANSPARENT = (nn.Dropout, nn.Identity)


@dataclass(frozen=True)
class FoldDecision:
    """What happened to one BatchNorm.

    Args:
        norm: The BatchNorm's module name (``conv1.norm``).
        folded: Whether it was folded away.
        into: The layer that absorbed it, or ``None`` when it stays.
        reason: Why it was folded there, or why it stays.
    """

    norm: str
    folded: bool
    into: str | None
    reason: str


@dataclass(frozen=True)
class FoldReport:
    """Every BatchNorm of a model and whether it was folded; ``str()`` lists them.

    Args:
        decisions: One decision per BatchNorm, in execution order.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=4), ConvSpec(out_channels=4, padding=1),
        ...              GAPHeadSpec(num_classes=2)], seed=0).eval()
        >>> folded, report = fold_batchnorm(net)
        >>> [(d.norm, d.into) for d in report.decisions]
        [('conv1.norm', None), ('conv2.norm', 'head.classifier')]
        >>> report.kept[0].reason
        'the next convolution conv2.conv pads with zeros (padding (1, 1)): the folded border would differ'
    """  # noqa: E501

    decisions: tuple[FoldDecision, ...]

    @property
    def folded(self) -> tuple[FoldDecision, ...]:
        """The BatchNorms folded away."""
        return tuple(d for d in self.decisions if d.folded)

    @property
    def kept(self) -> tuple[FoldDecision, ...]:
        """The BatchNorms that stay, each with the reason."""
        return tuple(d for d in self.decisions if not d.folded)

    def to_dict(self) -> dict[str, object]:
        """Return the counts and every decision as JSON-able data."""
        return {
            "folded": len(self.folded),
            "kept": len(self.kept),
            "decisions": [asdict(d) for d in self.decisions],
        }

    def __str__(self) -> str:
        """One line per BatchNorm: ``folded`` or ``kept`` with the reason."""
        lines = [f"BatchNorm folding: {len(self.folded)} folded, {len(self.kept)} kept"]
        for d in self.decisions:
            lines.append(f"  {d.norm}: {'folded ' if d.folded else 'kept: '}{d.reason}")
        return "\n".join(lines)


@torch.no_grad()
def _affine(norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(s, t)`` of the eval-mode map ``s * x + t``, in float64."""
    var = norm.running_var.double()  # type: ignore[union-attr]
    mean = norm.running_mean.double()  # type: ignore[union-attr]
    scale = torch.rsqrt(var + norm.eps)
    if norm.affine:
        scale = scale * norm.weight.double()
        return scale, norm.bias.double() - mean * scale
    return scale, -mean * scale


def _ensure_bias(layer: nn.Conv2d | nn.Linear) -> torch.Tensor:
    if layer.bias is None:
        out = layer.weight.shape[0]
        layer.bias = nn.Parameter(torch.zeros(out, dtype=layer.weight.dtype))
    return layer.bias


@torch.no_grad()
def _fold_into_output(conv: nn.Conv2d, scale: torch.Tensor, shift: torch.Tensor) -> None:
    """``BN(conv(x))`` as one convolution: scale output channels, then shift."""
    weight = conv.weight.double() * scale.view(-1, 1, 1, 1)
    bias = _ensure_bias(conv)
    new_bias = bias.double() * scale + shift
    conv.weight.copy_(weight.to(conv.weight.dtype))
    bias.copy_(new_bias.to(bias.dtype))


@torch.no_grad()
def _fold_into_input(
    layer: nn.Conv2d | nn.Linear, scale: torch.Tensor, shift: torch.Tensor
) -> None:
    """``layer(BN(x))`` as one layer: scale input channels, add the shift's contribution.

    A grouped convolution's weight ``[out, in / groups, k, k]`` reads, for output ``o``,
    the input channels of ``o``'s group, so each weight row takes its own group's slice of
    the scale and shift.
    """
    weight = layer.weight.double()
    groups = getattr(layer, "groups", 1)
    per_group = weight.shape[1]
    rows = torch.arange(weight.shape[0], device=weight.device)
    columns = torch.arange(per_group, device=weight.device)
    inputs = (rows // (weight.shape[0] // groups))[:, None] * per_group + columns[None, :]
    shape = (*inputs.shape,) + (1,) * (weight.ndim - 2)
    scale, shift = scale.double()[inputs].view(shape), shift.double()[inputs].view(shape)
    extra = (weight * shift).flatten(1).sum(1)
    bias = _ensure_bias(layer)
    new_bias = bias.double() + extra
    layer.weight.copy_((weight * scale).to(layer.weight.dtype))
    bias.copy_(new_bias.to(bias.dtype))


class _Graph:
    """The traced dataflow of a model: modules by name, users and call counts."""

    def __init__(self, model: nn.Module) -> None:
        try:
            self.graph = torch.fx.symbolic_trace(model).graph
        except Exception as error:  # any tracing failure means: cannot analyse
            raise ModelGraphError(
                f"cannot trace {type(model).__name__} with torch.fx ({type(error).__name__}: "
                f"{error}); BatchNorm folding needs a traceable model such as tinyconv.build "
                "makes"
            ) from error
        self.modules = dict(model.named_modules())
        self.calls: dict[str, int] = {}
        for node in self.graph.nodes:
            if node.op == "call_module":
                self.calls[node.target] = self.calls.get(node.target, 0) + 1

    def module(self, node: torch.fx.Node) -> nn.Module | None:
        return self.modules.get(node.target) if node.op == "call_module" else None  # type: ignore[arg-type]

    @staticmethod
    def label(node: torch.fx.Node) -> str:
        return str(node.target) if node.op == "call_module" else f"{node.name}"


def _branch_reason(users: list[torch.fx.Node]) -> str:
    """Why a BatchNorm whose output feeds ``len(users)`` operations stays."""
    if not users:
        return "nothing uses its output"
    owners = {}
    for user in users:
        stack = user.meta.get("nn_module_stack") or {}
        if stack:
            path, kind = next(iter(stack.values()))
            owners[str(path)] = getattr(kind, "__name__", str(kind))
    where = "".join(f" in {path} ({kind})" for path, kind in owners.items())
    names = ", ".join(_Graph.label(u) for u in users)
    return (
        f"its output feeds {len(users)} operations ({names}){where}: the map is used twice, "
        "e.g. multiplied by a gate computed from it, so its shift cannot move into one "
        "later layer"
    )


def _is_transparent(graph: _Graph, node: torch.fx.Node, folded: set[str]) -> bool:
    module = graph.module(node)
    return isinstance(module, _TRANSPARENT) or (node.op == "call_module" and node.target in folded)


def _try_backward(graph: _Graph, node: torch.fx.Node, folded: set[str]) -> nn.Conv2d | None:
    """The convolution whose only consumer is this BatchNorm (through dropouts), if any."""
    source = node.args[0]
    while isinstance(source, torch.fx.Node) and len(source.users) == 1:
        module = graph.module(source)
        if isinstance(module, nn.Conv2d) and graph.calls[source.target] == 1:  # type: ignore[index]
            return module
        if not _is_transparent(graph, source, folded):
            return None
        source = source.args[0]
    return None


def _is_spatial_mean(node: torch.fx.Node) -> tuple[bool, bool]:
    """Whether ``node`` is ``x.mean(dim=(2, 3)[, keepdim])``; and whether it keeps the dims."""
    is_method = node.op == "call_method" and node.target == "mean"
    if not (is_method or (node.op == "call_function" and node.target is torch.mean)):
        return False, False
    dims = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    keep = bool(node.args[2] if len(node.args) > 2 else node.kwargs.get("keepdim", False))
    dims = tuple(dims) if isinstance(dims, list | tuple) else (dims,)
    return sorted(d % 4 for d in dims) == [2, 3], keep  # type: ignore[operator]


def _try_forward(
    graph: _Graph, node: torch.fx.Node, scale: torch.Tensor, folded: set[str]
) -> tuple[nn.Conv2d | nn.Linear | None, str, str]:
    """Follow the BatchNorm's output to the next linear layer.

    Returns:
        ``(layer, name, reason)``: the layer to fold into (``None`` if the fold is not
        exact) with its name, and the reason either way.
    """
    current, via, channels_last = node, [], False
    while True:
        users = list(current.users)
        if len(users) != 1:
            return None, "", _branch_reason(users)
        (current,) = users
        module = graph.module(current)
        if _is_transparent(graph, current, folded):
            continue
        if isinstance(module, nn.MaxPool2d):
            if not bool((scale > 0).all()):
                bad = int(torch.nonzero(scale <= 0)[0])
                return (
                    None,
                    "",
                    (
                        f"a max-pool ({current.target}) follows and channel {bad} has scale "
                        f"{float(scale[bad]):.3g} <= 0: max-pool commutes only with positive scales"
                    ),
                )
            via.append(f"through {current.target} (max-pool, every scale positive)")
            continue
        is_mean, keep = _is_spatial_mean(current)
        if is_mean:
            via.append("through the spatial mean (linear)")
            channels_last = not keep
            continue
        name = _Graph.label(current)
        if graph.calls.get(name, 0) > 1:
            return None, "", f"the next layer {name} runs more than once; folding would change it"
        if isinstance(module, nn.Conv2d) and not channels_last:
            padding = module.padding
            if padding != "valid" and any(p != 0 for p in padding):  # type: ignore[union-attr]
                return (
                    None,
                    "",
                    (
                        f"the next convolution {name} pads with zeros (padding {padding}): the "
                        "folded border would differ"
                    ),
                )
            return module, name, ", ".join([f"into {name}, the next convolution", *via])
        if isinstance(module, nn.Linear) and channels_last:
            return module, name, ", ".join([f"into {name}, the next linear layer", *via])
        what = type(module).__name__ if module is not None else f"{current.target}"
        return None, "", f"the next operation ({name}, {what}) is not a linear layer it can enter"


def fold_batchnorm(model: nn.Module) -> tuple[nn.Module, FoldReport]:
    """Return an eval-mode copy of ``model`` with every BatchNorm folded where it is exact.

    Folded BatchNorms become ``nn.Identity`` in the copy and the layer that absorbed
    each is changed in the copy only (it may gain a bias). The copy computes the same
    function as the model in eval mode, up to float rounding (the fold is computed in
    float64).

    Args:
        model: A model ``torch.fx`` can trace (every model ``tinyconv.build`` makes).

    Returns:
        ``(folded_copy, report)``; the copy is in eval mode.

    Raises:
        ModelGraphError: If the model cannot be traced.

    Example:
        >>> import torch
        >>> from tinyconv import ConvSpec, GAPHeadSpec, SESpec, build
        >>> net = build([ConvSpec(out_channels=4), ConvSpec(out_channels=4), SESpec(rd_channels=2),
        ...              GAPHeadSpec(num_classes=2)], seed=0).eval()
        >>> folded, report = fold_batchnorm(net)
        >>> print(report)  # doctest: +ELLIPSIS
        BatchNorm folding: 1 folded, 1 kept
          conv1.norm: folded into conv2.conv, the next convolution
          conv2.norm: kept: its output feeds 2 operations (mean, mul) in se1 (SqueezeExcite): ...
        >>> x = torch.randn(8, 1, 28, 28)
        >>> bool((folded(x) - net(x)).abs().max() < 1e-5), folded.conv1.norm
        (True, Identity())
    """
    copy_ = copy.deepcopy(model).eval()
    graph = _Graph(copy_)
    folded: set[str] = set()
    decisions = []
    for node in graph.graph.nodes:
        norm = graph.module(node)
        if not isinstance(norm, nn.BatchNorm2d):
            continue
        name = str(node.target)
        if norm.running_mean is None or norm.running_var is None:
            decisions.append(
                FoldDecision(name, False, None, "it has no running statistics (uses batch ones)")
            )
            continue
        if graph.calls[name] > 1:
            decisions.append(FoldDecision(name, False, None, "it runs more than once"))
            continue
        scale, shift = _affine(norm)
        before = _try_backward(graph, node, folded)
        if before is not None:
            target = next(n for n, m in graph.modules.items() if m is before)
            _fold_into_output(before, scale, shift)
            decision = FoldDecision(name, True, target, f"into {target}, the convolution before it")
        else:
            layer, target, reason = _try_forward(graph, node, scale, folded)
            if layer is None:
                decisions.append(FoldDecision(name, False, None, reason))
                continue
            _fold_into_input(layer, scale, shift)
            decision = FoldDecision(name, True, target, reason)
        parent, _, child = name.rpartition(".")
        setattr(copy_.get_submodule(parent), child, nn.Identity())
        graph.modules[name] = copy_.get_submodule(name)
        folded.add(name)
        decisions.append(decision)
    return copy_, FoldReport(tuple(decisions))
