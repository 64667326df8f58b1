"""``deployed_ops``: the operators a model's converted int8 graph runs, read from the model.

TFLite's converter, after :func:`~tinyconv.fold.fold_batchnorm`, turns a tinyconv model
into a short list of builtin operators; which ones, with which shapes, decides what a
microcontroller pays for it (:mod:`tinyconv.device_estimate`). The list comes from the
folded model's ``torch.fx`` graph, by the rules the converter follows for the models
tinyconv builds (checked against every converted model under ``results/mcu``: one-channel
28x28 inputs, ReLU, SE blocks and convolution heads; other operators, such as a
``TRANSPOSE`` for RGB input, a ``FULLY_CONNECTED`` head or another activation, are named
but were never measured):

- a convolution from one input channel becomes a ``DEPTHWISE_CONV_2D`` with a channel
  multiplier, as does a grouped one with a group per input channel; any other is a
  ``CONV_2D``; a linear layer is a ``FULLY_CONNECTED``;
- a BatchNorm the fold keeps becomes a 1x1 ``DEPTHWISE_CONV_2D`` (its scale and shift);
- a ReLU or ReLU6 right after a convolution, linear layer or pooling is fused into it;
- a max-pool is a ``MAX_POOL_2D``; when its input passes through a dropout (an identity
  in eval mode) it is followed by a ``QUANTIZE`` of its output (the int8 converter gives
  that pool's output a scale of its own; without the dropout it does not);
- a mean is a ``MEAN``, a sigmoid a ``LOGISTIC``, a product a ``MUL``, a sum an ``ADD``;
- the graph starts with a ``RESHAPE`` (one input channel: NCHW and NHWC hold the same
  bytes) or a ``TRANSPOSE``, and ends with the ``RESHAPE`` of the flatten;
- views, identities and eval-mode dropout run nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from tinyconv import layer_info
from tinyconv._fx_nodes import node_elements, node_op_name
from tinyconv.eval_mode import eval_mode
from tinyconv.fold import fold_batchnorm

__all__ = ["DeployedOp", "deployed_ops"]

_FREE_MODULES = (nn.Identity, nn.Dropout)
_FREE_OPS = {"view", "reshape", "squeeze", "unsqueeze", "contiguous", "dropout"}
_FUSED = (nn.ReLU, nn.ReLU6)
_FUSING = (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d)
_FUNCTION_KINDS = {
    "mean": "MEAN",
    "sigmoid": "LOGISTIC",
    "mul": "MUL",
    "add": "ADD",
    "relu": "RELU",
    "max_pool2d": "MAX_POOL_2D",
    "avg_pool2d": "AVERAGE_POOL_2D",
    "flatten": "RESHAPE",
}
_MODULE_KINDS = {
    nn.Sigmoid: "LOGISTIC",
    nn.ReLU: "RELU",
    nn.ReLU6: "RELU6",
    nn.MaxPool2d: "MAX_POOL_2D",
    nn.AvgPool2d: "AVERAGE_POOL_2D",
    nn.Hardswish: "HARD_SWISH",
    nn.Flatten: "RESHAPE",
}


@dataclass(frozen=True)
class DeployedOp:
    """One operator of the converted int8 graph, with the sizes that decide its cost.

    Args:
        kind: The TFLite builtin operator (``CONV_2D``, ``MEAN``, ...).
        node: The ``torch.fx`` node it comes from (a ``QUANTIZE`` the converter adds
            after a max-pool names that pool; the first ``RESHAPE`` names the input).
        macs: Multiply-accumulates per inference (convolutions and linear layers).
        input_elements: Elements of its (first) input tensor.
        output_elements: Elements of its output tensor.
        weights: Entries of its weight tensor (one int8 byte each), 0 for none.
        channels: Output channels with a scale of their own (per-channel weights), 0
            for none.
        in_channels: Input channels of a convolution or linear layer, 0 for others.
        taps: Kernel positions of a convolution (9 for 3x3), 0 for others.
    """

    kind: str
    node: str
    macs: int = 0
    input_elements: int = 0
    output_elements: int = 0
    weights: int = 0
    channels: int = 0
    in_channels: int = 0
    taps: int = 0

    @property
    def output_pixels(self) -> int:
        """Output positions of a per-channel operator (output elements per channel)."""
        return self.output_elements // self.channels if self.channels else self.output_elements


def _conv(node: torch.fx.Node, conv: nn.Conv2d, source: int, output: int) -> DeployedOp:
    per_output = (conv.in_channels // conv.groups) * math.prod(conv.kernel_size)
    depthwise = conv.in_channels == 1 or conv.groups == conv.in_channels
    return DeployedOp(
        "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D", node.name,
        macs=output * per_output, input_elements=source, output_elements=output,
        weights=conv.weight.numel(), channels=conv.out_channels,
        in_channels=conv.in_channels, taps=math.prod(conv.kernel_size),
    )  # fmt: skip


def _module_ops(
    node: torch.fx.Node, module: nn.Module, modules: dict[str, nn.Module]
) -> list[DeployedOp]:
    source = node_elements(node.all_input_nodes[0]) if node.all_input_nodes else 0
    output = node_elements(node)
    if isinstance(module, nn.Conv2d):
        return [_conv(node, module, source, output)]
    if isinstance(module, nn.Linear):
        return [
            DeployedOp(
                "FULLY_CONNECTED", node.name, macs=module.in_features * output,
                input_elements=source, output_elements=output,
                weights=module.weight.numel(), channels=module.out_features,
                in_channels=module.in_features, taps=1,
            )
        ]  # fmt: skip
    if isinstance(module, nn.BatchNorm2d):  # kept by the fold: a per-channel scale and shift
        return [
            DeployedOp(
                "DEPTHWISE_CONV_2D", node.name, macs=output, input_elements=source,
                output_elements=output, weights=module.num_features,
                channels=module.num_features, in_channels=module.num_features, taps=1,
            )
        ]  # fmt: skip
    if isinstance(module, _FREE_MODULES) or _is_fused(node, modules):
        return []
    kind = next((k for t, k in _MODULE_KINDS.items() if isinstance(module, t)), None)
    return _simple(node, kind or type(module).__name__.upper(), source, output, modules)


def _through_dropout(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    """Whether ``node``'s input passes through a dropout, looking back through free ops."""
    source = node.all_input_nodes[0] if node.all_input_nodes else None
    while source is not None and (
        (source.op == "call_module" and isinstance(modules.get(str(source.target)), _FREE_MODULES))
        or node_op_name(source) in _FREE_OPS
    ):
        module = modules.get(str(source.target)) if source.op == "call_module" else None
        if isinstance(module, nn.Dropout) or node_op_name(source) == "dropout":
            return True
        source = source.all_input_nodes[0] if source.all_input_nodes else None
    return False


def _simple(
    node: torch.fx.Node, kind: str, source: int, output: int, modules: dict[str, nn.Module]
) -> list[DeployedOp]:
    op = DeployedOp(kind, node.name, input_elements=source, output_elements=output)
    if kind == "MAX_POOL_2D" and _through_dropout(node, modules):
        requantize = DeployedOp(
            "QUANTIZE", node.name, input_elements=output, output_elements=output
        )
        return [op, requantize]
    return [op]


def _is_fused(node: torch.fx.Node, modules: dict[str, nn.Module]) -> bool:
    """A ReLU the converter fuses into the operation that writes its input."""
    if node.op != "call_module" or not isinstance(modules.get(str(node.target)), _FUSED):
        return False
    source = node.all_input_nodes[0]
    writer = modules.get(str(source.target)) if source.op == "call_module" else None
    return isinstance(writer, _FUSING) and len(source.users) == 1


def deployed_ops(
    model: nn.Module, input_shape: tuple[int, ...] | None = None
) -> tuple[DeployedOp, ...]:
    """List the operators the model's converted int8 graph runs, in order.

    Args:
        model: A model ``torch.fx`` can trace (every model :func:`tinyconv.build` makes);
            it is not changed (BatchNorms are folded in a copy).
        input_shape: One input image ``(C, H, W)``; default: the model's own
            (:attr:`tinyconv.TinyNet.input_shape`).

    Returns:
        One :class:`DeployedOp` per operator, in execution order.

    Raises:
        ModelGraphError: If the model cannot be traced, or the input shape is neither
            given nor known to the model.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=8), ConvSpec(out_channels=8),
        ...              GAPHeadSpec(num_classes=10)], seed=0)
        >>> [(op.kind, op.macs) for op in deployed_ops(net)]  # doctest: +NORMALIZE_WHITESPACE
        [('RESHAPE', 0), ('DEPTHWISE_CONV_2D', 48672), ('CONV_2D', 331776), ('MEAN', 0),
         ('CONV_2D', 80), ('RESHAPE', 0)]
    """
    input_shape = layer_info.input_shape(model, input_shape)
    folded, _ = fold_batchnorm(model)
    traced = torch.fx.symbolic_trace(folded)
    first = next(folded.parameters(), None)
    probe = torch.zeros(
        (1, *input_shape),
        dtype=first.dtype if first is not None else None,
        device=first.device if first is not None else None,
    )
    with eval_mode(traced), torch.no_grad():
        ShapeProp(traced).propagate(probe)
    modules = dict(traced.named_modules())
    ops: list[DeployedOp] = []
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            first_kind = "RESHAPE" if input_shape[0] == 1 else "TRANSPOSE"
            ops.append(DeployedOp(first_kind, node.name, input_elements=node_elements(node),
                                  output_elements=node_elements(node)))  # fmt: skip
        elif node.op == "call_module":
            ops += _module_ops(node, modules[str(node.target)], modules)
        elif node.op in ("call_method", "call_function"):
            name = node_op_name(node)
            if name in _FREE_OPS:
                continue
            source = node_elements(node.all_input_nodes[0]) if node.all_input_nodes else 0
            kind = _FUNCTION_KINDS.get(name, name.upper())
            ops += _simple(node, kind, source, node_elements(node), modules)
    return tuple(ops)
