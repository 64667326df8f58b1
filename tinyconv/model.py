"""``build`` and ``TinyNet``: turn a sequence of block specs into a checked model.

``build`` threads channels and feature-map sizes through the specs, checks each
block against what it meets (naming the layer index on failure), and returns a
:class:`TinyNet`, an ``nn.Sequential`` that remembers its specs and input size
and rejects inputs of the wrong shape or dtype (and, in eval mode, values far outside
the range its recorded normalisation gives pixels) with a readable message
(:mod:`tinyconv.model_input`). The check runs in eager mode only, so
``torch.fx.symbolic_trace``, ``torch.export`` and ``torch.compile`` see plain tensor code.
``build(..., seed=s)`` draws the initial weights from its own generator seeded with
``s``, so the same specs and seed give the same weights whatever ran before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from tinyconv._checks import check_int, check_positive_int
from tinyconv._tracing import is_tracing
from tinyconv.errors import SpecError
from tinyconv.model_input import check_model_input
from tinyconv.normalization import Normalization
from tinyconv.specs import (
    SPECS_FORMAT_VERSION,
    BlockSpec,
    Size,
    specs_from_list,
    specs_to_list,
)


class TinyNet(nn.Sequential):
    r"""A sequential CNN built from block specs, with an input-shape check.

    Children are named by kind and position: ``conv1``, ``conv2``, ``se1``,
    ``trans1``, ..., ``head``. Build one with :func:`build`.

    Args:
        blocks: Named blocks, in order.
        specs: The specs the blocks were made from.
        in_channels: Channels of the expected input.
        input_size: ``(height, width)`` of the expected input.
        num_classes: Logits produced by the head.

    Attributes:
        specs: The block specs, in order.
        class_names: Class names in label order, when known (set by a recipe run or by
            :func:`tinyconv.load`; saved by :func:`tinyconv.save`).
        dataset: Name of the dataset the model was trained on, when known.
        metadata: Free-form JSON-able facts saved with the model (recipe, seed, scores).

    Shape:
        - Input: :math:`(B, C_{in}, H, W)` with ``(H, W) == input_size``.
        - Output: :math:`(B, \text{num\_classes})` logits.

    Example:
        >>> import torch
        >>> from tinyconv import ConvSpec, GAPHeadSpec
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=10)])
        >>> net.in_channels, net.input_size, net.num_classes
        (1, (28, 28), 10)
        >>> net(torch.zeros(1, 28, 28))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.errors.ModelInputError: TinyNet expects input of shape (B, 1, 28, 28), got ...
    """

    def __init__(
        self,
        blocks: OrderedDict[str, nn.Module],
        *,
        specs: tuple[BlockSpec, ...],
        in_channels: int,
        input_size: Size,
        num_classes: int,
    ) -> None:
        super().__init__(blocks)
        self.specs = specs
        self.in_channels = in_channels
        self.input_size = input_size
        self.num_classes = num_classes
        self.out_channels = num_classes
        self.class_names: tuple[str, ...] | None = None
        self._normalization: Normalization | None = None
        self.dataset: str | None = None
        self.metadata: dict[str, Any] = {}

    def check_input(self, x: torch.Tensor) -> None:
        """Raise :class:`~tinyconv.errors.ModelInputError` for a batch the model cannot use.

        Checked (see :mod:`tinyconv.model_input`): the shape
        ``(B, in_channels, *input_size)``; a floating-point dtype equal to the weights'
        (unless autocast is on); and, in eval mode when :attr:`normalization` is known,
        for a batch on the CPU, values near the range normalised pixels take (0..255
        floats are refused).

        Args:
            x: A batch of images.

        Raises:
            ModelInputError: Naming the expected and the received shape, dtype or value
                range, and the fix (a ``ValueError``).
        """
        check_model_input(x, self, self.input_shape, self.normalization)

    @property
    def normalization(self) -> Normalization | None:
        """How inputs were normalised in training (``None`` when not known).

        A :class:`~tinyconv.data.Normalization` (per input channel, of ``x / 255``); a
        ``{"mean": [...], "std": [...]}`` mapping assigned to it is converted, a malformed
        one refused with a ``ValueError``.

        Example:
            >>> from tinyconv import GAPHeadSpec
            >>> net = build([GAPHeadSpec(num_classes=2)])
            >>> net.normalization = {"mean": [0.1307], "std": [0.3081]}
            >>> net.normalization
            Normalization(mean=(0.1307,), std=(0.3081,))
        """
        return self._normalization

    @normalization.setter
    def normalization(self, value: Normalization | Mapping[str, Any] | None) -> None:
        if value is None or isinstance(value, Normalization):
            self._normalization = value
        else:
            self._normalization = Normalization.from_dict(value)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """One input image's shape ``(in_channels, height, width)``.

        The one place a model's input shape is derived: export, the device estimate,
        pruning and distillation ask the model for it.

        Example:
            >>> from tinyconv import GAPHeadSpec
            >>> build([GAPHeadSpec(num_classes=3)], in_channels=2, input_size=(8, 6)).input_shape
            (2, 8, 6)
        """
        height, width = self.input_size
        return (int(self.in_channels), int(height), int(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""Return class logits for a batch of images.

        Args:
            x: Images of shape :math:`(B, C_{in}, H, W)`.

        Returns:
            Logits of shape :math:`(B, \text{num\_classes})`.
        """
        if not is_tracing(x):
            self.check_input(x)  # eager only: tracers and compilers see plain tensor code
        return super().forward(x)

    def architecture(self) -> dict[str, Any]:
        """Return what :func:`build_from_architecture` needs to rebuild this model, as data.

        Returns:
            A JSON-able dict: format version, ``in_channels``, ``input_size`` and the
            specs as dicts.

        Example:
            >>> from tinyconv import GAPHeadSpec
            >>> net = build([GAPHeadSpec(num_classes=3)], in_channels=2, input_size=(8, 8))
            >>> build_from_architecture(net.architecture()).specs == net.specs
            True
        """
        return {
            "version": SPECS_FORMAT_VERSION,
            "in_channels": self.in_channels,
            "input_size": list(self.input_size),
            "specs": specs_to_list(self.specs),
        }


def build(
    specs: Sequence[BlockSpec],
    *,
    in_channels: int = 1,
    input_size: Size = (28, 28),
    num_classes: int | None = None,
    seed: int | None = None,
) -> TinyNet:
    """Build a :class:`TinyNet` from block specs, checking every block as it goes.

    Args:
        specs: Block specs in order; the last must be a head
            (:class:`~tinyconv.specs.GAPHeadSpec` or :class:`~tinyconv.specs.ConvHeadSpec`).
        in_channels: Channels of the input images.
        input_size: ``(height, width)`` of the input images.
        num_classes: If given, the head must produce exactly this many logits.
        seed: If given, initialise the weights from a generator seeded with it (the
            global RNG is left as it was), so the same specs and seed always give the
            same weights. ``None`` draws from the global RNG, as PyTorch layers do.

    Returns:
        The model, in training mode, with freshly initialised weights.

    Raises:
        ValueError: For an empty spec list, an unknown spec type, a non-positive
            channel count, a kernel or pool larger than the feature map it meets,
            a head that is missing, misplaced or of the wrong ``num_classes``.
            The message names the layer index.

    Example:
        >>> from tinyconv.specs import ConvSpec, GAPHeadSpec, SESpec, TransitionSpec
        >>> model = build([
        ...     ConvSpec(out_channels=8),
        ...     ConvSpec(out_channels=16),
        ...     SESpec(rd_channels=4),
        ...     TransitionSpec(out_channels=8),
        ...     ConvSpec(out_channels=16),
        ...     GAPHeadSpec(num_classes=10),
        ... ])
        >>> [name for name, _ in model.named_children()]
        ['conv1', 'conv2', 'se1', 'trans1', 'conv3', 'head']
        >>> import torch
        >>> model(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    if seed is not None:
        check_int("seed", seed, 0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return build(
                specs, in_channels=in_channels, input_size=input_size, num_classes=num_classes
            )
    specs = tuple(specs)
    check_positive_int("in_channels", in_channels)
    if not isinstance(input_size, Sequence) or len(input_size) != 2:
        raise ValueError(f"input_size must be (height, width), got {input_size!r}")
    for side in input_size:
        check_positive_int("input_size", side)
    if not specs:
        raise ValueError("specs is empty; a model needs at least a head spec")
    blocks: OrderedDict[str, nn.Module] = OrderedDict()
    counts: dict[str, int] = {}
    channels, size = in_channels, tuple(input_size)
    for index, spec in enumerate(specs):
        label = f"layer {index} ({type(spec).__name__})"
        if not isinstance(spec, BlockSpec):
            known = ", ".join(cls.__name__ for cls in BlockSpec.registry.values())
            raise ValueError(f"layer {index}: unknown spec type {type(spec).__name__}; use {known}")
        is_last = index == len(specs) - 1
        if spec.is_head != is_last:
            where = "is a head but not the last layer" if not is_last else "must be a head"
            heads = " or ".join(c.__name__ for c in BlockSpec.registry.values() if c.is_head)
            raise ValueError(f"{label} {where}; a TinyNet ends with exactly one {heads}")
        try:
            module = spec.make(channels, size)  # the block's constructor checks its arguments
            out_channels, out_size = spec.output(channels, size)
        except ValueError as error:
            raise ValueError(f"{label} at {channels}x{size[0]}x{size[1]}: {error}") from error
        if is_last and num_classes is not None and out_channels != num_classes:
            raise ValueError(
                f"{label} produces {out_channels} logits but num_classes={num_classes}; "
                f"set the head's num_classes={num_classes}"
            )
        counts[spec.prefix] = counts.get(spec.prefix, 0) + 1
        name = spec.prefix if spec.is_head else f"{spec.prefix}{counts[spec.prefix]}"
        blocks[name] = module
        channels, size = out_channels, out_size
    return TinyNet(
        blocks,
        specs=specs,
        in_channels=in_channels,
        input_size=(int(input_size[0]), int(input_size[1])),
        num_classes=channels,
    )


def build_from_architecture(data: Mapping[str, Any], *, seed: int | None = None) -> TinyNet:
    """Rebuild a model (fresh weights) from :meth:`TinyNet.architecture` output.

    Args:
        data: A dict with ``version``, ``in_channels``, ``input_size`` and ``specs``.
        seed: As for :func:`build`.

    Returns:
        The model, in training mode.

    Raises:
        SpecError: If the dict is malformed or of an unknown version; the message
            names what is wrong.
        ValueError: If the specs do not fit together (as from :func:`build`).
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"an architecture must be a dict, got {type(data).__name__}")
    version = data.get("version")
    if version != SPECS_FORMAT_VERSION:
        raise SpecError(
            f"architecture format version {version!r} is not supported (this tinyconv reads "
            f"version {SPECS_FORMAT_VERSION}); upgrade tinyconv or re-export the model"
        )
    missing = [key for key in ("in_channels", "input_size", "specs") if key not in data]
    if missing:
        raise SpecError(f"architecture lacks {', '.join(missing)}")
    return build(
        specs_from_list(data["specs"]),
        in_channels=data["in_channels"],
        input_size=tuple(data["input_size"]),  # type: ignore[arg-type]
        seed=seed,
    )


def minimum_input_size(
    specs: Sequence[BlockSpec], *, in_channels: int = 1, largest: int = 1024
) -> int | None:
    """Return the smallest square image side the specs can take, by building them.

    Each convolution needs its kernel to fit the feature map it meets and each
    downsampling halves it, so a stack that fits 28x28 MNIST can fail on 8x8 images.

    Args:
        specs: The model's specs (a head with ``num_classes`` set, or any head).
        in_channels: Channels of the images.
        largest: Give up above this side.

    Returns:
        The side ``s`` such that ``s x s`` images fit and ``(s-1) x (s-1)`` do not, or
        ``None`` if none up to ``largest`` fits.

    Example:
        >>> from tinyconv.specs import ConvSpec, GAPHeadSpec, TransitionSpec
        >>> minimum_input_size([ConvSpec(out_channels=4), TransitionSpec(out_channels=4),
        ...                     ConvSpec(out_channels=4), GAPHeadSpec(num_classes=2)])
        8
    """

    def fits(side: int) -> bool:
        try:
            build(specs, in_channels=in_channels, input_size=(side, side), num_classes=None)
        except ValueError:
            return False
        return True

    if not fits(largest):
        return None
    low, high = 0, largest  # fits(high) and, by convention, not fits(low)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high
