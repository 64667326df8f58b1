"""What :func:`tinyconv.summary` collects per row: which modules are rows, and one probe.

**Rows.** Any model gets one row per tinyconv block (:class:`~tinyconv.ConvBlock`,
:class:`~tinyconv.Transition`, :class:`~tinyconv.SqueezeExcite`, :class:`~tinyconv.GAPHead`,
:class:`~tinyconv.ConvHead`, or any module that defines ``receptive_field_after``) and one
per plain leaf layer (a module without children; an empty ``nn.Sequential``, ``ModuleList``
or ``ModuleDict`` inside the model is no layer); every other container (a
:class:`~tinyconv.TinyNet`, an ``nn.Sequential``, a user's own ``nn.Module``) is opened.
``depth`` opens the sequential blocks (ConvBlock, Transition) into their parts, one level
per step beyond 1; blocks that compute between their children (SE, the heads) stay whole.

**Probe.** One forward pass of a zero image at batch 1 with hooks records, per row, the
output shape, the multiply-accumulates of its convolutions and linear layers, and the
receptive field. The field is derived by following the tensors: a row whose input is
the model's input or another row's output gets the field after that tensor, grown by
:meth:`~tinyconv.ReceptiveField.through`; a row whose input came from code between rows
(a functional ``F.relu``, a residual sum, a reshape in a custom ``forward``) has no
derivable field (``None``), unless the row makes every field global by itself (a GAP
head, a linear layer). Rows are ordered by their first call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from tinyconv.blocks import (
    ConvBlock,
    ConvHead,
    DepthwiseSeparable,
    GAPHead,
    SqueezeExcite,
    Transition,
)
from tinyconv.errors import ModelGraphError
from tinyconv.eval_mode import eval_mode
from tinyconv.receptive_field import ReceptiveField

_BLOCKS = (ConvBlock, ConvHead, DepthwiseSeparable, GAPHead, SqueezeExcite, Transition)
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)  # empty ones are no rows
_UNKNOWN = object()  # a row whose field differs between its calls


def is_block(module: nn.Module) -> bool:
    """Whether ``module`` is one summary row at depth 1 (a tinyconv block).

    Args:
        module: Any module.

    Returns:
        True for tinyconv's blocks and any module defining ``receptive_field_after``.

    Example:
        >>> from torch import nn
        >>> is_block(ConvBlock(1, 8)), is_block(nn.Sequential(nn.Conv2d(1, 8, 3)))
        (True, False)
    """
    return isinstance(module, _BLOCKS) or callable(getattr(module, "receptive_field_after", None))


def row_modules(model: nn.Module, depth: int) -> list[tuple[str, nn.Module]]:
    """Return the modules shown as rows, in registration order (see the module docstring).

    Args:
        model: Any module.
        depth: 1 keeps blocks whole; each step beyond opens sequential blocks one level.

    Returns:
        ``(path, module)`` pairs; the path of the model itself is ``""``.

    Example:
        >>> from torch import nn
        >>> mine = nn.Sequential(nn.Sequential(ConvBlock(1, 8), nn.MaxPool2d(2)), nn.Flatten())
        >>> [name for name, _ in row_modules(mine, depth=1)]
        ['0.0', '0.1', '1']
        >>> [name for name, _ in row_modules(mine, depth=2)]
        ['0.0.conv', '0.0.act', '0.0.norm', '0.1', '1']
    """

    def walk(prefix: str, module: nn.Module, opened: int) -> list[tuple[str, nn.Module]]:
        children = list(module.named_children())
        if not children:
            return [(prefix, module)]
        if is_block(module):
            if opened >= depth - 1 or not isinstance(module, nn.Sequential):
                return [(prefix, module)]
            opened += 1
        rows = []
        for name, child in children:
            if not isinstance(child, _CONTAINERS) or list(child.children()):
                rows += walk(f"{prefix}.{name}" if prefix else name, child, opened)
        return rows

    return walk("", model, 0)


def input_shape(
    model: nn.Module, input_size: tuple[int, ...] | None = None, *, given_as: str = "input_shape"
) -> tuple[int, ...]:
    """Return the shape of one input image: ``input_size``, or the model's own.

    The one place an analysis (summary, deployed graph, device estimate, export) asks a
    model for its input shape; a :class:`~tinyconv.TinyNet` answers with
    :attr:`~tinyconv.TinyNet.input_shape`.

    Args:
        model: The model.
        input_size: ``(C, H, W)``, or ``None`` for a model that remembers its input.
        given_as: The caller's name for that argument, for the message.

    Returns:
        ``(C, H, W)`` as integers.

    Raises:
        ModelGraphError: If ``input_size`` is missing for a model without an
            ``input_shape``, or is not three numbers (a ``ValueError``).

    Example:
        >>> input_shape(ConvBlock(1, 8), [1, 28, 28])
        (1, 28, 28)
    """
    if input_size is None:
        own = getattr(model, "input_shape", None)
        if own is not None:
            return tuple(int(n) for n in own)
        raise ModelGraphError(
            f"a {type(model).__name__} does not say its input shape; pass "
            f"{given_as}=(C, H, W) (only a TinyNet remembers its own)"
        )
    if len(input_size) != 3:
        raise ModelGraphError(f"{given_as} must be (C, H, W) for one image, got {input_size!r}")
    return tuple(int(n) for n in input_size)


@dataclass
class LayerInfo:
    """What the probe saw of one row.

    Args:
        name: Module path (``""`` for the model itself).
        module: The module.
        output_shape: Output shape of one image at its last call (``()`` if never run).
        macs: Multiply-accumulates per image in its conv and linear layers, all calls.
        receptive_field: The field after it, or ``None`` where it cannot be derived.
        first_call: Order of its first call (``None`` if never run).
    """

    name: str
    module: nn.Module
    output_shape: tuple[int, ...] = ()
    macs: int = 0
    receptive_field: ReceptiveField | None = None
    first_call: int | None = None
    _fields: list[object] = field(default_factory=list, repr=False)


def _leaf_macs(module: nn.Module, output: torch.Tensor) -> int:
    per_image = output[0].numel()
    if isinstance(module, nn.Conv2d):
        kernel = module.kernel_size[0] * module.kernel_size[1]
        return per_image * (module.in_channels // module.groups) * kernel
    if isinstance(module, nn.Linear):
        return per_image * module.in_features
    return 0


def _first_tensor(value: object) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, tuple | list):
        return next((t for t in map(_first_tensor, value) if t is not None), None)
    return None


def probe(
    model: nn.Module, rows: list[tuple[str, nn.Module]], input_shape: tuple[int, ...]
) -> list[LayerInfo]:
    """Run one zero image through ``model`` and collect each row's facts.

    The pass runs in eval mode without gradients; every module's training flag and
    every BatchNorm statistic is left as it was.

    Args:
        model: The model.
        rows: From :func:`row_modules`.
        input_shape: Shape of one input image ``(C, H, W)``.

    Returns:
        One :class:`LayerInfo` per row, ordered by first call; rows never called last,
        in registration order.

    Example:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2))
        >>> infos = probe(net, row_modules(net, 1), (1, 4, 4))
        >>> [(i.name, i.output_shape, i.macs, str(i.receptive_field)) for i in infos]
        [('0', (4, 2, 2), 144, '3'), ('1', (4, 2, 2), 0, '3'), ('2', (16,), 0, 'global'), \
('3', (2,), 32, 'global')]
    """
    infos = [LayerInfo(name, module) for name, module in rows]
    running: list[LayerInfo] = []  # rows whose forward is in progress, innermost last
    calls = 0
    # Tensors seen so far and the field after each; holding them keeps their ids unique.
    known: dict[int, tuple[torch.Tensor, ReceptiveField]] = {}

    def record_macs(module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        if running:
            running[-1].macs += _leaf_macs(module, output)

    def enter(info: LayerInfo, inputs: tuple[object, ...]) -> None:
        nonlocal calls
        if info.first_call is None:
            info.first_call = calls
        calls += 1
        tensor = _first_tensor(inputs)
        seen = known.get(id(tensor)) if tensor is not None else None
        before = seen[1] if seen is not None and seen[0] is tensor else None
        if before is not None:
            info._fields.append(before.through(info.module))
        else:
            alone = ReceptiveField().through(info.module)
            info._fields.append(alone if alone.is_global else _UNKNOWN)
        running.append(info)

    def leave(info: LayerInfo, output: object) -> None:
        running.pop()
        tensor = _first_tensor(output)
        if tensor is None:
            return
        info.output_shape = tuple(tensor.shape[1:])
        after = info._fields[-1]
        if isinstance(after, ReceptiveField):
            known[id(tensor)] = (tensor, after)

    # MAC hooks first: a row that is itself a conv must count before its row closes.
    handles = [
        leaf.register_forward_hook(record_macs)
        for leaf in model.modules()
        if isinstance(leaf, nn.Conv2d | nn.Linear)
    ]
    for info in infos:
        handles.append(
            info.module.register_forward_pre_hook(lambda _m, i, info=info: enter(info, i))
        )
        handles.append(
            info.module.register_forward_hook(lambda _m, _i, o, info=info: leave(info, o))
        )
    first = next(model.parameters(), None)
    image = torch.zeros(
        (1, *input_shape),
        device=first.device if first is not None else "cpu",
        dtype=first.dtype if first is not None else torch.float32,
    )
    known[id(image)] = (image, ReceptiveField())
    try:
        with eval_mode(model):
            model(image)
    finally:
        for handle in handles:
            handle.remove()
    for info in infos:
        fields = info._fields
        same = bool(fields) and all(f == fields[0] for f in fields)
        info.receptive_field = fields[0] if same and fields[0] is not _UNKNOWN else None  # type: ignore[assignment]
    never = len(infos)
    return sorted(infos, key=lambda i: never if i.first_call is None else i.first_call)
