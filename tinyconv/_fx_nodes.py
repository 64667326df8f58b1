"""What a ``torch.fx`` node is: its operation's name and its output's size, read one way.

The analyses that walk a traced model (:mod:`tinyconv.device_costs`,
:mod:`tinyconv.deployed_graph`) read nodes through these.
"""

from __future__ import annotations

import math

import torch.fx

__all__ = ["node_elements", "node_op_name"]


def node_op_name(node: torch.fx.Node) -> str:
    """The name of a method or function call (``"mean"``, ``"mul"``), ``""`` for others."""
    if node.op == "call_method":
        return str(node.target)
    return getattr(node.target, "__name__", "") if node.op == "call_function" else ""


def node_elements(node: torch.fx.Node) -> int:
    """Elements of the node's output after shape propagation (0 when not known)."""
    meta = node.meta.get("tensor_meta")
    return math.prod(meta.shape) if hasattr(meta, "shape") else 0
