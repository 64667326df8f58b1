"""What a device pays for a model in bytes: peak activation memory and int8 weight bytes.

The figure that decides whether a net fits a microcontroller's SRAM is not the weight
count but the **peak activation memory**: the largest sum of activation tensors alive at
once. It comes from the ``torch.fx`` graph and the rule TensorFlow Lite Micro's memory
planner follows, a layer's input and output alive at once (see :func:`activation_steps`);
:func:`tinyconv.summary` reports it per layer and in total, and :mod:`tinyconv.export`
in its device-cost report. :func:`int8_weight_bytes` counts
the flash that per-channel int8 weights take.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from tinyconv._fx_nodes import node_elements, node_op_name
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
_NORM_MODULES = (nn.BatchNorm1d, nn.BatchNorm2d)
_FUSED_ACTIVATION_MODULES = (nn.ReLU, nn.ReLU6)
_FUSED_ACTIVATION_OPS = {"relu", "relu6", "relu_"}
# Operations whose output a TFLite kernel can pass through a fused ReLU/ReLU6.
_FUSING_MODULES = (nn.Conv1d, nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d)
_FUSING_OPS = {"conv1d", "conv2d", "linear", "max_pool2d", "avg_pool2d", "add", "mul", "sub"}


@dataclass(frozen=True)
class ActivationStep:
    """One operation of a traced model and the activation memory alive while it runs.

    Args:
        node: The ``torch.fx`` node name.
        module: Path of the innermost module that runs it (``""`` at the top level).
        live_elements: Elements of all activation tensors alive during the operation
            (0 for an operation that needs no buffer of its own and runs in none: see
            :func:`activation_steps`).
    """

    node: str
    module: str
    live_elements: int


def _is_module(node: torch.fx.Node, modules: dict[str, nn.Module], kinds: tuple) -> bool:
    return node.op == "call_module" and isinstance(modules.get(str(node.target)), kinds)


def _is_view(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    return _is_module(node, modules, _ALIAS_MODULES) or node_op_name(node) in _ALIAS_OPS


def _is_fusing(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    return _is_module(node, modules, _FUSING_MODULES) or node_op_name(node) in _FUSING_OPS


def _is_fused_activation(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    return (
        _is_module(node, modules, _FUSED_ACTIVATION_MODULES)
        or node_op_name(node) in _FUSED_ACTIVATION_OPS
    )


def _readers(node: torch.fx.Node, modules: dict[str, nn.Module]) -> list[torch.fx.Node]:
    """The operations that read ``node``'s output, looking through views and dropout."""
    found = []
    for user in node.users:
        found += _readers(user, modules) if _is_view(user, modules) else [user]
    return found


def _module_path(node: torch.fx.Node) -> str:
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    return str(list(stack.values())[-1][0]) if stack else ""


def _buffers(
    nodes: list[torch.fx.Node], modules: dict[str, nn.Module]
) -> dict[torch.fx.Node, torch.fx.Node]:
    """Map every node to the node that owns the buffer its output lives in."""
    owner: dict[torch.fx.Node, torch.fx.Node] = {}
    members: dict[torch.fx.Node, list[torch.fx.Node]] = {}
    for node in nodes:
        source = node.all_input_nodes[0] if node.all_input_nodes else None
        shares = source is not None and _is_view(node, modules)
        if source is not None and not shares:
            buffer = owner[source]
            sole = all(u is node or u in members[buffer] for m in members[buffer] for u in m.users)
            if _is_fused_activation(node, modules):  # conv + ReLU is one TFLite kernel
                shares = sole and _is_fusing(buffer, modules)
            elif _is_module(node, modules, _NORM_MODULES):  # fold_batchnorm removes it
                after_conv = _is_fusing(buffer, modules) and source is buffer
                shares = sole and (after_conv or len(_readers(node, modules)) == 1)
        owner[node] = owner[source] if shares and source is not None else node
        members.setdefault(owner[node], []).append(node)
    return owner


def activation_steps(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[ActivationStep, ...]:
    """Trace ``model`` and return, per operation, the activation elements alive at batch 1.

    The rule is the one TensorFlow Lite Micro's memory planner applies to the deployed
    graph (after :func:`tinyconv.export.fold_batchnorm`): **while a layer runs, its
    inputs and its output are alive at once**, and every tensor stays alive from the
    operation that writes it until its last reader, so a block that reads a tensor
    twice keeps it (a :class:`~tinyconv.SqueezeExcite` holds its input map through the
    squeeze, the bottleneck and the gate until the final product). The peak is the
    largest sum of live tensors over the operations, in traced order. What the device
    graph does not run as an operation of its own takes no buffer of its own:

    - views, flattens, identities and eval-mode dropout share their input's memory;
    - a ReLU or ReLU6 after a convolution, linear layer, pooling or addition is fused
      into that kernel (TFLite's fused activation), when nothing else reads the
      tensor before it;
    - an eval-mode BatchNorm is folded away when nothing else reads its input and it
      directly follows a convolution or linear layer, or its output has a single
      reader (the cases :func:`~tinyconv.export.fold_batchnorm` folds, but for a
      padded next convolution, which it keeps and this rule does not see).

    Any other operation (a sigmoid gate, a mean, a product, a kept BatchNorm) is one
    with its input and output alive. Weights are not activations. Multiply
    ``live_elements`` by the bytes per element (4 for fp32, 1 for int8). For MNIST V5
    at int8 the peak is conv2's input plus output, 8x26x26 + 12x24x24 = 12,320 bytes
    (see :func:`peak_activation_elements`); the rule before this one, which gave every
    ReLU and BatchNorm a buffer of its own, said 13,824.

    Args:
        model: A model ``torch.fx.symbolic_trace`` can trace; it runs once on zeros in
            eval mode (modes and BatchNorm statistics are restored).
        input_shape: Shape of one input image ``(C, H, W)``.

    Returns:
        One step per operation, in execution order; ``live_elements`` is what is alive
        while it runs (for a shared-buffer operation, the buffers it touches and all
        others alive then).

    Raises:
        Exception: Whatever ``torch.fx`` raises for a model it cannot trace.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=8, norm=False), GAPHeadSpec(num_classes=10)])
        >>> [(s.node, s.live_elements) for s in activation_steps(net, (1, 28, 28))][:2]
        [('conv1_conv', 6192), ('conv1_act', 5408)]
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
    owner = _buffers(nodes, modules)
    last_use = {node: index[node] for node in nodes}
    for node in nodes:
        for source in node.all_input_nodes:
            last_use[owner[source]] = max(last_use[owner[source]], index[node])
    buffers = [
        n
        for n in nodes
        if owner[n] is n and n.op in ("placeholder", "call_module", "call_method", "call_function")
    ]
    steps = []
    for node in nodes:
        if node.op not in ("call_module", "call_method", "call_function"):
            continue
        k = index[node]
        live = sum(node_elements(b) for b in buffers if index[b] <= k <= last_use[b])
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
    weights, which stay fp32 unless folded) costs 4 bytes per element. A weight under a
    ``torch.nn.utils.prune`` mask is stored whole (``weight_orig``), zeros included.

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
    per_channel = {}
    for m in model.modules():
        if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d | nn.Linear):
            own = dict(m.named_parameters(recurse=False))
            weight = own.get("weight", own.get("weight_orig"))  # weight_orig: pruned, stored whole
            if weight is not None:
                per_channel[id(weight)] = weight.shape[0]
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
        >>> peak_activation_elements(net, (1, 5, 5))  # the conv: 25 in + 18 out, ReLU fused
        43
        >>> from tinyconv.recipes import get_recipe
        >>> v5 = get_recipe("mnist_v5").build_model(seed=0)
        >>> peak_activation_elements(v5, (1, 28, 28))  # conv2: 8x26x26 in + 12x24x24 out
        12320
    """
    return max((step.live_elements for step in activation_steps(model, input_shape)), default=0)
