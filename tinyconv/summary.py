"""``summary``: a per-layer table of output shape, parameters, receptive field, MACs and bytes.

Three steps, each in one place: :mod:`tinyconv.layer_info` chooses the rows and probes
the model once (shapes, MACs, receptive fields); :func:`summary` adds parameters, bytes
and exact totals; :class:`ModelSummary` renders the table.

Parameters are exact and independent of the display depth: the total comes from
:func:`~tinyconv.parameters.count_parameters` (stored parameters: weights a
``torch.nn.utils.prune`` mask holds at zero count, and a *Pruned* column and the totals
say how many there are) and each row counts the parameters of its subtree not already
counted by an earlier row. MACs are multiply-accumulate operations per image in
convolutions and linear layers (one MAC is two FLOPs in ``torch.utils.flop_counter``
terms), dense, pruned weights included; elementwise work (BatchNorm, activations,
pooling, SE rescaling) is not counted. Shapes come from one forward pass of a zero
image in eval mode without gradients, after which every module's training flag is
restored, so BatchNorm statistics and the model's mode are untouched.

Two device costs come with the table. **Peak activation memory** is the largest sum of
activation tensors alive at once during one inference at batch 1, by the rule
TensorFlow Lite Micro's memory planner follows (a layer's input and output alive at
once, a tensor kept until its last reader, BatchNorm folded and ReLU fused into the
convolution before it; :func:`tinyconv.device_costs.activation_steps` states it
exactly), in fp32 bytes; per row it is that peak while the row's operations run.
**Int8 weight bytes** are what per-channel int8 weights take
(:func:`tinyconv.device_costs.int8_weight_bytes`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from tinyconv.device_costs import ActivationStep, activation_steps, int8_weight_bytes, module_peak
from tinyconv.layer_info import input_shape, probe, row_modules
from tinyconv.parameters import count_parameters, masked_zeros

COUNTING_NOTE = (
    "Parameters: every stored tensor once; BatchNorm affine weights count, running "
    "statistics (buffers) do not; a budget (check_budget, --max-params) checks these "
    "stored parameters. MACs: multiply-accumulates per image in conv and linear layers. "
    "RF: receptive field side in input pixels, empty where the code between layers hides it."
)
PRUNING_NOTE = (
    "Pruned: weights a torch.nn.utils.prune mask holds at zero; they are stored, counted "
    "in Params, MACs and Int8 W, and left out of a budget only with exclude_pruned=True."
)
MEMORY_NOTE = (
    "Peak act: largest sum of activation tensors alive at once, by TFLite Micro's planner "
    "rule: a layer's input and output alive together, a tensor kept until its last reader "
    "(SE keeps its input until the product), BatchNorm folded and ReLU fused into the conv "
    "before it, views free (batch 1, fp32 bytes; int8 is a quarter). Int8 W: 1 byte per "
    "conv/linear weight + 4-byte scale per output channel, 4 bytes per other parameter."
)


@dataclass(frozen=True)
class SummaryRow:
    """One row of a :class:`ModelSummary`.

    Args:
        name: Module name within the model (``conv1``, ``conv1.norm``, ...).
        type: Module class name.
        output_shape: Output shape of one image (batch dimension dropped).
        params: Parameters owned by this row's subtree and no earlier row (stored
            entries, pruned ones included).
        receptive_field: Side of the receptive field after this row in input pixels;
            ``"global"`` once a global pooling or a linear layer has mixed every
            position; ``None`` where it cannot be derived (the row's input came from
            code between rows, such as a functional activation or a residual sum).
        macs: Multiply-accumulates per image in this row's conv and linear layers.
        pruned: Of ``params``, the entries a ``torch.nn.utils.prune`` mask holds at zero.

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
    receptive_field: int | str | None
    macs: int
    pruned: int = 0


@dataclass(frozen=True)
class ModelSummary:
    """A model's per-layer table and exact totals; ``str()`` renders it.

    Args:
        rows: One row per displayed module.
        input_shape: Shape of one input image, ``(C, H, W)``.
        total_params: All stored parameters, shared tensors once, pruned entries included.
        trainable_params: Parameters with ``requires_grad=True``.
        total_macs: Multiply-accumulates per image over the whole model.
        peak_activation_bytes: Peak activation memory at batch 1 in fp32 bytes, or
            ``None`` if ``torch.fx`` cannot trace the model.
        int8_weight_bytes: Bytes of every parameter stored as per-channel int8 weights
            (see the module docstring).
        layer_peak_activation_bytes: Per row, the peak while that row's operations run
            (fp32 bytes; ``None`` where unknown).
        layer_int8_weight_bytes: Per row, int8 bytes of the parameters it owns.
        pruned_params: Of ``total_params``, the entries held at zero by
            ``torch.nn.utils.prune`` masks.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> table = summary(build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=10)]))
        >>> table.input_shape, table.total_params, table.total_macs
        ((1, 28, 28), 168, 48752)
        >>> table.peak_activation_bytes, table.int8_weight_bytes  # conv: (784 + 5408) * 4
        (24768, 288)
        >>> [row["name"] for row in table.to_dicts()]
        ['conv1', 'head']
        >>> for line in str(table).splitlines()[2:6]:
        ...     print(line)
        Layer  Type       Output shape  Params      RF    MACs  Peak act  Int8 W
        ------------------------------------------------------------------------
        conv1  ConvBlock  8x26x26           88       3  48,672    24,768     168
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
    pruned_params: int = 0

    def to_dicts(self) -> list[dict[str, object]]:
        """Return the rows as plain dictionaries."""
        return [asdict(row) for row in self.rows]

    def __str__(self) -> str:
        """Render the table with totals and what is counted."""
        pruned = self.pruned_params > 0
        header = ("Layer", "Type", "Output shape", "Params", *(("Pruned",) if pruned else ()))
        header += ("RF", "MACs", "Peak act", "Int8 W")
        peaks = self.layer_peak_activation_bytes or (None,) * len(self.rows)
        int8 = self.layer_int8_weight_bytes or (None,) * len(self.rows)
        lines = [
            (
                row.name,
                row.type,
                "x".join(map(str, row.output_shape)),
                f"{row.params:,}",
                *((f"{row.pruned:,}",) if pruned else ()),
                "" if row.receptive_field is None else str(row.receptive_field),
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
        total = f"Total params: {self.total_params:,}"
        if pruned:
            unpruned = self.total_params - self.pruned_params
            total += (
                f" stored ({self.pruned_params:,} held at zero by pruning masks, "
                f"{unpruned:,} unpruned)"
            )
        return "\n".join(
            [
                f"Input: {shape}",
                rule,
                fmt(header),
                rule,
                *map(fmt, lines),
                rule,
                total,
                f"Trainable params: {self.trainable_params:,}",
                f"MACs per image: {self.total_macs:,}",
                f"Peak activation memory (batch 1, fp32): {peak} bytes",
                f"Int8 weight bytes: {self.int8_weight_bytes:,}",
                COUNTING_NOTE,
                *((PRUNING_NOTE,) if pruned else ()),
                MEMORY_NOTE,
            ]
        )


def summary(
    model: nn.Module, input_size: tuple[int, ...] | None = None, *, depth: int = 1
) -> ModelSummary:
    """Tabulate any model layer by layer: shape, parameters, receptive field, MACs, bytes.

    Rows (see :mod:`tinyconv.layer_info`): one per tinyconv block and one per plain
    leaf layer, at any nesting, in a :class:`~tinyconv.TinyNet` or in a user's own
    ``nn.Module``; other containers are opened. The receptive field is left empty
    (``None``) where the dataflow between rows hides it.

    Args:
        model: Any ``nn.Module`` that takes one image batch.
        input_size: Shape of one input image ``(C, H, W)``; optional for a TinyNet.
        depth: 1 shows tinyconv blocks whole; 2 also their parts; and so on.
            Totals do not depend on it.

    Returns:
        The table, with exact totals.

    Raises:
        ValueError: If ``input_size`` is missing or malformed, or ``depth < 1``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from tinyconv import ConvBlock, ConvSpec, GAPHead, GAPHeadSpec, build
        >>> table = summary(build([ConvSpec(out_channels=8), GAPHeadSpec(num_classes=10)]))
        >>> [(row.name, row.params, row.receptive_field) for row in table.rows]
        [('conv1', 88, 3), ('head', 80, 'global')]
        >>> table.total_params, table.total_macs
        (168, 48752)
        >>> class Mine(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.body = nn.Sequential(ConvBlock(1, 8), nn.MaxPool2d(2))
        ...         self.head = GAPHead(8, 10)
        ...     def forward(self, x):
        ...         return self.head(torch.relu(self.body(x)))
        >>> [(r.name, r.receptive_field) for r in summary(Mine(), input_size=(1, 28, 28)).rows]
        [('body.0', 3), ('body.1', 4), ('head', 'global')]
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    shape = input_shape(model, input_size, given_as="input_size")
    infos = probe(model, row_modules(model, depth), shape)
    try:
        steps: tuple[ActivationStep, ...] | None = activation_steps(model, shape)
    except Exception:  # a model torch.fx cannot trace: its peak memory is unknown
        steps = None
    zeros = masked_zeros(model)
    seen: set[int] = set()
    rows = []
    int8_rows = []
    peaks: list[int | None] = []
    for info in infos:
        own = [p for p in info.module.parameters() if id(p) not in seen]
        seen.update(id(p) for p in own)
        int8_rows.append(int8_weight_bytes(model, own))
        peaks.append(None if steps is None else 4 * module_peak(steps, info.name))
        field = info.receptive_field
        side = None if field is None else "global" if field.is_global else field.size
        rows.append(
            SummaryRow(
                name=info.name or type(model).__name__,
                type=type(info.module).__name__,
                output_shape=info.output_shape,
                params=sum(p.numel() for p in own),
                receptive_field=side,
                macs=info.macs,
                pruned=sum(zeros.get(id(p), 0) for p in own),
            )
        )
    unlisted = [p for p in model.parameters() if id(p) not in seen]
    if unlisted:  # parameters of an opened container itself, with no operations of their own
        rows.append(
            SummaryRow(
                name="(other)",
                type="parameters of opened containers",
                output_shape=(),
                params=sum(p.numel() for p in unlisted),
                receptive_field=None,
                macs=0,
                pruned=sum(zeros.get(id(p), 0) for p in unlisted),
            )
        )
        int8_rows.append(int8_weight_bytes(model, unlisted))
        peaks.append(None)
    return ModelSummary(
        rows=tuple(rows),
        input_shape=shape,
        total_params=count_parameters(model),
        trainable_params=count_parameters(model, trainable_only=True),
        total_macs=sum(info.macs for info in infos),
        peak_activation_bytes=None if steps is None else 4 * module_peak(steps, ""),
        int8_weight_bytes=int8_weight_bytes(model),
        layer_peak_activation_bytes=tuple(peaks),
        layer_int8_weight_bytes=tuple(int8_rows),
        pruned_params=sum(zeros.values()),
    )
