"""``summary``: a per-layer table of output shape, parameters, receptive field, MACs and bytes.

Parameters are exact and independent of the display depth: the total comes from
:func:`~tinyconv.parameters.count_parameters` and each row counts the parameters
of its subtree not already counted by an earlier row. MACs are multiply-accumulate
operations per image in convolutions and linear layers (one MAC is two FLOPs in
``torch.utils.flop_counter`` terms); elementwise work (BatchNorm, activations,
pooling, SE rescaling) is not counted. Shapes come from one forward pass of a
zero image in eval mode without gradients, after which every module's training
flag is restored, so BatchNorm statistics and the model's mode are untouched.

Two device costs come with the table. **Peak activation memory** is the largest sum of
activation tensors alive at once during one inference at batch 1 (see
:func:`tinyconv.device_costs.activation_steps` for the exact rule), in fp32 bytes; per
row it is that peak while the row's operations run. **Int8 weight bytes** are what
per-channel int8 weights take (:func:`tinyconv.device_costs.int8_weight_bytes`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from tinyconv.device_costs import ActivationStep, activation_steps, int8_weight_bytes, module_peak
from tinyconv.eval_mode import eval_mode
from tinyconv.parameters import count_parameters
from tinyconv.receptive_field import ReceptiveField

COUNTING_NOTE = (
    "Parameters: every tensor once; BatchNorm affine weights count, running statistics "
    "(buffers) do not. MACs: multiply-accumulates per image in conv and linear layers."
)
MEMORY_NOTE = (
    "Peak act: largest sum of activation tensors alive at once (batch 1, fp32 bytes; "
    "int8 is a quarter). Int8 W: 1 byte per conv/linear weight + 4-byte scale per output "
    "channel, 4 bytes per other parameter."
)


@dataclass(frozen=True)
class SummaryRow:
    """One row of a :class:`ModelSummary`.

    Args:
        name: Module name within the model (``conv1``, ``conv1.norm``, ...).
        type: Module class name.
        output_shape: Output shape of one image (batch dimension dropped).
        params: Parameters owned by this row's subtree and no earlier row.
        receptive_field: Side of the receptive field after this row in input
            pixels, or ``None`` once a global pooling has mixed every position.
        macs: Multiply-accumulates per image in this row's conv and linear layers.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> row = summary(build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=10)])).rows[0]
        >>> row.name, row.type, row.output_shape, row.params, row.receptive_field, row.macs
        ('conv1', 'ConvBlock', (8, 26, 26), 88, 3, 48672)
    """

    name: str
    type: str
    output_shape: tuple[int, ...]
    params: int
    receptive_field: int | None
    macs: int


@dataclass(frozen=True)
class ModelSummary:
    """A model's per-layer table and exact totals; ``str()`` renders it.

    Args:
        rows: One row per displayed module.
        input_shape: Shape of one input image, ``(C, H, W)``.
        total_params: All parameters, shared tensors once.
        trainable_params: Parameters with ``requires_grad=True``.
        total_macs: Multiply-accumulates per image over the whole model.
        peak_activation_bytes: Peak activation memory at batch 1 in fp32 bytes, or
            ``None`` if ``torch.fx`` cannot trace the model.
        int8_weight_bytes: Bytes of every parameter stored as per-channel int8 weights
            (see the module docstring).
        layer_peak_activation_bytes: Per row, the peak while that row's operations run
            (fp32 bytes; ``None`` where unknown).
        layer_int8_weight_bytes: Per row, int8 bytes of the parameters it owns.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> table = summary(build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=10)]))
        >>> table.input_shape, table.total_params, table.total_macs
        ((1, 28, 28), 168, 48752)
        >>> table.peak_activation_bytes, table.int8_weight_bytes  # ReLU: (5408 + 5408) * 4
        (43264, 288)
        >>> [row["name"] for row in table.to_dicts()]
        ['conv1', 'head']
        >>> for line in str(table).splitlines()[2:6]:
        ...     print(line)
        Layer  Type       Output shape  Params      RF    MACs  Peak act  Int8 W
        ------------------------------------------------------------------------
        conv1  ConvBlock  8x26x26           88       3  48,672    43,264     168
        head   GAPHead    10                80  global      80    21,664     120
    """

    rows: tuple[SummaryRow, ...]
    input_shape: tuple[int, ...]
    total_params: int
    trainable_params: int
    total_macs: int
    peak_activation_bytes: int | None = None
    int8_weight_bytes: int = 0
    layer_peak_activation_bytes: tuple[int | None, ...] = ()
    layer_int8_weight_bytes: tuple[int, ...] = ()

    def to_dicts(self) -> list[dict[str, object]]:
        """Return the rows as plain dictionaries."""
        return [asdict(row) for row in self.rows]

    def __str__(self) -> str:
        """Render the table with totals and what is counted."""
        header = ("Layer", "Type", "Output shape", "Params", "RF", "MACs", "Peak act", "Int8 W")
        peaks = self.layer_peak_activation_bytes or (None,) * len(self.rows)
        int8 = self.layer_int8_weight_bytes or (None,) * len(self.rows)
        lines = [
            (
                row.name,
                row.type,
                "x".join(map(str, row.output_shape)),
                f"{row.params:,}",
                "global" if row.receptive_field is None else str(row.receptive_field),
                f"{row.macs:,}",
                "-" if peak is None else f"{peak:,}",
                "-" if weights is None else f"{weights:,}",
            )
            for row, peak, weights in zip(self.rows, peaks, int8, strict=True)
        ]
        widths = [max(len(cell) for cell in column) for column in zip(header, *lines, strict=True)]

        def fmt(cells: tuple[str, ...]) -> str:
            left = [c.ljust(w) for c, w in zip(cells[:3], widths[:3], strict=True)]
            right = [c.rjust(w) for c, w in zip(cells[3:], widths[3:], strict=True)]
            return "  ".join(left + right)

        rule = "-" * len(fmt(header))
        shape = "x".join(map(str, self.input_shape))
        peak = "-" if self.peak_activation_bytes is None else f"{self.peak_activation_bytes:,}"
        return "\n".join(
            [
                f"Input: {shape}",
                rule,
                fmt(header),
                rule,
                *map(fmt, lines),
                rule,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"MACs per image: {self.total_macs:,}",
                f"Peak activation memory (batch 1, fp32): {peak} bytes",
                f"Int8 weight bytes: {self.int8_weight_bytes:,}",
                COUNTING_NOTE,
                MEMORY_NOTE,
            ]
        )


def _display_modules(model: nn.Module, depth: int) -> list[tuple[str, nn.Module]]:
    """Modules shown as rows: those at ``depth``, plus shallower indivisible ones.

    Only ``nn.Sequential`` containers are opened, since their forward is exactly
    their children in order; any other module (an SE block, a GAP head) may do
    work between its children and stays one row.
    """

    def walk(prefix: str, module: nn.Module, level: int) -> list[tuple[str, nn.Module]]:
        children = list(module.named_children())
        if level == depth or not children or not isinstance(module, nn.Sequential):
            return [(prefix, module)]
        rows = []
        for name, child in children:
            rows += walk(f"{prefix}.{name}" if prefix else name, child, level + 1)
        return rows

    return walk("", model, 0)


def _leaf_macs(module: nn.Module, output: torch.Tensor) -> int:
    per_image = output[0].numel()
    if isinstance(module, nn.Conv2d):
        kernel = module.kernel_size[0] * module.kernel_size[1]
        return per_image * (module.in_channels // module.groups) * kernel
    if isinstance(module, nn.Linear):
        return per_image * module.in_features
    return 0


def _input_shape(model: nn.Module, input_size: tuple[int, ...] | None) -> tuple[int, ...]:
    if input_size is None:
        if hasattr(model, "in_channels") and hasattr(model, "input_size"):
            return (int(model.in_channels), *map(int, model.input_size))
        raise ValueError(
            f"summary needs input_size=(C, H, W) for a {type(model).__name__}; "
            "only a TinyNet remembers its own input size"
        )
    if len(input_size) != 3:
        raise ValueError(f"input_size must be (C, H, W) for one image, got {input_size!r}")
    return tuple(int(n) for n in input_size)


def summary(
    model: nn.Module, input_size: tuple[int, ...] | None = None, *, depth: int = 1
) -> ModelSummary:
    """Tabulate a model layer by layer: output shape, parameters, receptive field, MACs.

    Args:
        model: A model whose children run in registration order (a
            :class:`~tinyconv.TinyNet` or any ``nn.Sequential``).
        input_size: Shape of one input image ``(C, H, W)``; optional for a TinyNet.
        depth: 1 shows the top-level blocks; 2 also their parts; and so on.
            Totals do not depend on it.

    Returns:
        The table, with exact totals.

    Raises:
        ValueError: If ``input_size`` is missing or malformed, or ``depth < 1``.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> table = summary(build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=10)]))
        >>> [(row.name, row.params, row.receptive_field) for row in table.rows]
        [('conv1', 88, 3), ('head', 80, None)]
        >>> table.total_params, table.total_macs
        (168, 48752)
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    shape = _input_shape(model, input_size)
    rows_modules = _display_modules(model, depth)
    outputs: dict[str, tuple[int, ...]] = {}
    macs = dict.fromkeys((name for name, _ in rows_modules), 0)
    running: list[str] = []  # stack of rows whose forward is in progress

    def record_macs(m: nn.Module, _i: object, out: torch.Tensor) -> None:
        if running:
            macs[running[-1]] += _leaf_macs(m, out)

    # MAC hooks first: a row that is itself a conv must count before its row closes.
    handles = [
        leaf.register_forward_hook(record_macs)
        for leaf in model.modules()
        if isinstance(leaf, nn.Conv2d | nn.Linear)
    ]
    for name, module in rows_modules:

        def enter(_m: nn.Module, _i: object, name: str = name) -> None:
            running.append(name)

        def leave(_m: nn.Module, _i: object, out: torch.Tensor, name: str = name) -> None:
            outputs[name] = tuple(out.shape[1:])
            running.pop()

        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    first = next(model.parameters(), None)
    probe = torch.zeros(
        (1, *shape),
        device=first.device if first is not None else "cpu",
        dtype=first.dtype if first is not None else torch.float32,
    )
    try:
        with eval_mode(model):
            model(probe)
    finally:
        for handle in handles:
            handle.remove()
    try:
        steps: tuple[ActivationStep, ...] | None = activation_steps(model, shape)
    except Exception:  # a model torch.fx cannot trace: its peak memory is unknown
        steps = None
    seen: set[int] = set()
    field = ReceptiveField()
    rows = []
    int8_rows = []
    for name, module in rows_modules:
        own = [p for p in module.parameters() if id(p) not in seen]
        seen.update(id(p) for p in own)
        int8_rows.append(int8_weight_bytes(model, own))
        field = field.through(module)
        rows.append(
            SummaryRow(
                name=name or type(model).__name__,
                type=type(module).__name__,
                output_shape=outputs.get(name, ()),
                params=sum(p.numel() for p in own),
                receptive_field=None if field.is_global else field.size,
                macs=macs[name],
            )
        )
    unlisted = [p for p in model.parameters() if id(p) not in seen]
    if unlisted:
        rows.append(
            SummaryRow(
                name="(other)",
                type="parameters above the display depth",
                output_shape=(),
                params=sum(p.numel() for p in unlisted),
                receptive_field=rows[-1].receptive_field if rows else 1,
                macs=0,
            )
        )
        int8_rows.append(int8_weight_bytes(model, unlisted))
    peaks = [None if steps is None else 4 * module_peak(steps, n) for n, _ in rows_modules]
    peaks += [None] if unlisted else []  # parameters with no operations of their own
    return ModelSummary(
        rows=tuple(rows),
        input_shape=shape,
        total_params=count_parameters(model),
        trainable_params=count_parameters(model, trainable_only=True),
        total_macs=sum(macs.values()),
        peak_activation_bytes=None if steps is None else 4 * module_peak(steps, ""),
        int8_weight_bytes=int8_weight_bytes(model),
        layer_peak_activation_bytes=tuple(peaks),
        layer_int8_weight_bytes=tuple(int8_rows),
    )
