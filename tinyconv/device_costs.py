"""What a device pays for a model in bytes: peak activation memory and int8 weight bytes.

The figure that decides whether a net fits a microcontroller's SRAM is not the weight
count but the **peak activation memory**: the largest sum of activation tensors alive at
once. It comes from the ``torch.fx`` graph and a liveness rule (see
:func:`activation_steps`); :func:`tinyconv.summary` reports it per layer and in total,
and :mod:`tinyconv.export` in its device-cost report. :func:`int8_weight_bytes` counts
the flash that per-channel int8 weights take.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from tinyconv.eval_mode import eval_mode

__all__ = [
    "ActivationStep",
    "activation_steps",
    "int8_weight_bytes",
    "module_peak",
    "peak_activation_elements",
]


_ALIAS_MODULES = (nn.Identity, nn.Dropout, nn.Flatten)
_ALIAS_OPS = {"view", "reshape", "flatten", "squeeze", "unsqueeze", "contiguous", "dropout"}


@dataclass(frozen=True)
class ActivationStep:
    """One operation of a traced model and the activation memory alive while it runs.

    Args:
        node: The ``torch.fx`` node name.
        module: Path of the innermost module that runs it (``""`` at the top level).
        live_elements: Elements of all activation tensors alive during the operation.
    """

    node: str
    module: str
    live_elements: int


def _is_alias(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    if node.op == "call_module":
        return isinstance(modules.get(str(node.target)), _ALIAS_MODULES)
    name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
    return node.op in ("call_method", "call_function") and name in _ALIAS_OPS


def _elements(node: torch.fx.Node) -> int:
    meta = node.meta.get("tensor_meta")
    return math.prod(meta.shape) if hasattr(meta, "shape") else 0


def _module_path(node: torch.fx.Node) -> str:
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    return str(list(stack.values())[-1][0]) if stack else ""


def activation_steps(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[ActivationStep, ...]:
    """Trace ``model`` and return, per operation, the activation elements alive at batch 1.

    The rule: operations run in the traced order; each allocates its output when it
    starts, while its inputs are still held; a tensor is freed after its last reader
    (the model's input and output included). Views, flattens, identities and eval-mode
    dropout share their input's memory; nothing runs in place; weights are not
    activations. The peak of ``live_elements`` times the bytes per element (4 for fp32,
    1 for int8) is the peak activation memory.

    Args:
        model: A model ``torch.fx.symbolic_trace`` can trace; it runs once on zeros in
            eval mode (modes and BatchNorm statistics are restored).
        input_shape: Shape of one input image ``(C, H, W)``.

    Returns:
        One step per operation, in execution order.

    Raises:
        Exception: Whatever ``torch.fx`` raises for a model it cannot trace.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=8, norm=False), GAPHeadSpec(num_classes=10)])
        >>> [(s.node, s.live_elements) for s in activation_steps(net, (1, 28, 28))][:2]
        [('conv1_conv', 6192), ('conv1_act', 10816)]
    """
    traced = torch.fx.symbolic_trace(model)
    first = next(model.parameters(), None)
    probe = torch.zeros(
        (1, *input_shape),
        device=first.device if first is not None else "cpu",
        dtype=first.dtype if first is not None else torch.float32,
    )
    with eval_mode(model), torch.no_grad():
        ShapeProp(traced).propagate(probe)
    nodes = list(traced.graph.nodes)
    modules = dict(traced.named_modules())
    index = {node: i for i, node in enumerate(nodes)}
    root: dict[torch.fx.Node, torch.fx.Node] = {}
    for node in nodes:
        shares = _is_alias(node, modules) and node.all_input_nodes
        root[node] = root[node.all_input_nodes[0]] if shares else node
    last_use = {node: index[node] for node in nodes}
    for node in nodes:
        for source in node.all_input_nodes:
            last_use[root[source]] = max(last_use[root[source]], index[node])
    owners = [
        n
        for n in nodes
        if root[n] is n and n.op in ("placeholder", "call_module", "call_method", "call_function")
    ]
    steps = []
    for node in nodes:
        if node.op not in ("call_module", "call_method", "call_function"):
            continue
        k = index[node]
        live = sum(_elements(o) for o in owners if index[o] <= k <= last_use[o])
        steps.append(ActivationStep(node.name, _module_path(node), live))
    return tuple(steps)


def module_peak(steps: tuple[ActivationStep, ...], module: str) -> int:
    """Return the peak live elements while ``module``'s operations run (``""``: the model).

    Args:
        steps: From :func:`activation_steps`.
        module: A module path (``conv1``, ``conv1.conv``); its submodules' steps count.

    Returns:
        The largest ``live_elements`` among those steps, ``0`` if none ran.
    """
    inside = [
        step.live_elements
        for step in steps
        if not module or step.module == module or step.module.startswith(f"{module}.")
    ]
    return max(inside, default=0)


def int8_weight_bytes(model: nn.Module, params: list[nn.Parameter] | None = None) -> int:
    """Bytes of parameters stored as symmetric per-channel int8 weights.

    Every conv or linear weight costs one byte per element plus a 4-byte float scale per
    output channel; every other parameter (biases, stored as int32; BatchNorm affine
    weights, which stay fp32 unless folded) costs 4 bytes per element.

    Args:
        model: The model, to tell conv and linear weights from other parameters.
        params: The parameters to count; default every parameter of ``model`` once.

    Returns:
        The bytes.

    Example:
        >>> from torch import nn
        >>> int8_weight_bytes(nn.Conv2d(2, 4, 3))  # 72 weights + 4 scales * 4 + 4 biases * 4
        104
    """
    per_channel = {
        id(m.weight): m.weight.shape[0]
        for m in model.modules()
        if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d | nn.Linear)
    }
    chosen = list(model.parameters()) if params is None else params
    return sum(
        p.numel() + 4 * per_channel[id(p)] if id(p) in per_channel else 4 * p.numel()
        for p in chosen
    )


def peak_activation_elements(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Return the peak number of activation elements alive at once at batch 1.

    Multiply by 4 for fp32 bytes, by 1 for int8.

    Args:
        model: A model ``torch.fx`` can trace.
        input_shape: Shape of one input image ``(C, H, W)``.

    Returns:
        The largest ``live_elements`` of :func:`activation_steps`.

    Example:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())  # 1x5x5 -> 2x3x3 -> 2x3x3
        >>> peak_activation_elements(net, (1, 5, 5))  # the conv: 25 in + 18 out
        43
    """
    return max((step.live_elements for step in activation_steps(model, input_shape)), default=0)
