"""Exact parameter counting and the budget check (parameters, and flash and arena estimates).

What is counted: every ``nn.Parameter`` reachable from the model, once, even
when a tensor is shared between layers. BatchNorm's affine weight and bias are
parameters and count; its running mean, variance and batch counter are buffers
and do not.

Pruning: ``torch.nn.utils.prune`` replaces a parameter ``weight`` by the parameter
``weight_orig`` (every stored value) and the buffer ``weight_mask``; ``weight`` itself
becomes a plain tensor recomputed before each forward. The count sees ``weight_orig``
once, as the stored parameter it is; :func:`masked_zeros` finds the entries a mask
holds at zero. A budget (:func:`check_budget`) checks **stored** parameters, the
ones a dense model file and a dense device kernel hold, unless asked with
``exclude_pruned=True`` to check only the unpruned ones. ``count_parameters(model) -
count_parameters(model, exclude_pruned=True)`` is the number of pruned weights.
"""

from __future__ import annotations

from torch import nn

from tinyconv.errors import TinyconvError


class BudgetExceededError(TinyconvError, ValueError):
    """Raised by :func:`check_budget` when a model is over a budget: parameters, flash, arena.

    A ``ValueError``, so code that already catches bad values keeps working.

    Args:
        message: What went wrong: total, budget, overshoot and the largest layers.
        total: The model's count in ``unit``.
        budget: The allowed maximum.
        unit: What was counted: ``"parameters"``, ``"flash bytes"`` or ``"arena bytes"``.

    Attributes:
        total: The model's count in ``unit``.
        budget: The allowed maximum.
        unit: What was counted.

    Example:
        >>> from torch import nn
        >>> try:
        ...     check_budget(nn.Linear(10, 10), max_params=100)
        ... except BudgetExceededError as error:
        ...     print(error.total, error.budget)
        110 100
    """

    def __init__(self, message: str, *, total: int, budget: int, unit: str = "parameters") -> None:
        super().__init__(message)
        self.unit = unit
        self.total = total
        self.budget = budget


def masked_zeros(model: nn.Module) -> dict[int, int]:
    """Map each pruned parameter to its entries a ``torch.nn.utils.prune`` mask holds at zero.

    A pruned parameter is stored whole (``weight_orig``) and multiplied by its mask
    (``weight_mask``) before each forward. Weights that are zero without a mask (for
    example after ``prune.remove``, which bakes the zeros in) are ordinary parameters
    and not listed.

    Args:
        model: Any ``nn.Module``.

    Returns:
        ``{id(weight_orig): zeros in its mask}``, each stored tensor once; parameters
        without a mask are absent.

    Example:
        >>> from torch import nn
        >>> from torch.nn.utils import prune
        >>> net = nn.Sequential(nn.Conv2d(1, 8, 3, bias=False), nn.Conv2d(8, 4, 1))
        >>> _ = prune.l1_unstructured(net[0], "weight", amount=0.5)
        >>> list(masked_zeros(net).values())
        [36]
    """
    pruned: dict[int, int] = {}
    for module in model.modules():
        for name, mask in module.named_buffers(recurse=False):
            original = getattr(module, f"{name.removesuffix('_mask')}_orig", None)
            if not name.endswith("_mask") or not isinstance(original, nn.Parameter):
                continue
            if id(original) not in pruned and mask.shape == original.shape:
                pruned[id(original)] = int((mask == 0).sum())
    return pruned


def _counted(model: nn.Module, trainable_only: bool, exclude_pruned: bool) -> dict[int, int]:
    """Map ``id(parameter)`` to its counted entries, each tensor once."""
    pruned = masked_zeros(model) if exclude_pruned else {}
    return {
        id(p): p.numel() - pruned.get(id(p), 0)
        for p in model.parameters()
        if p.requires_grad or not trainable_only
    }


def count_parameters(
    model: nn.Module, trainable_only: bool = False, *, exclude_pruned: bool = False
) -> int:
    """Count a model's parameters exactly, each shared tensor once.

    Args:
        model: Any ``nn.Module``.
        trainable_only: Count only parameters with ``requires_grad=True``.
        exclude_pruned: Leave out the entries a ``torch.nn.utils.prune`` mask holds at
            zero. By default every stored entry counts, pruned or not.

    Returns:
        The number of scalar parameters.

    Example:
        >>> from torch import nn
        >>> from torch.nn.utils import prune
        >>> count_parameters(nn.BatchNorm2d(8))  # affine weight and bias; running stats are buffers
        16
        >>> shared = nn.Linear(4, 4)
        >>> count_parameters(nn.Sequential(shared, shared))  # a shared layer counts once
        20
        >>> conv = prune.l1_unstructured(nn.Conv2d(1, 8, 3, bias=False), "weight", amount=0.5)
        >>> count_parameters(conv), count_parameters(conv, exclude_pruned=True)
        (72, 36)
    """
    return sum(_counted(model, trainable_only, exclude_pruned).values())


def layer_parameters(model: nn.Module, *, exclude_pruned: bool = False) -> list[tuple[str, int]]:
    """List each module that owns parameters directly, with its count, largest first.

    Args:
        model: Any ``nn.Module``.
        exclude_pruned: Leave out entries held at zero by pruning masks.

    Returns:
        ``(module name, parameter count)`` pairs; a shared tensor is listed under
        the first module that owns it.

    Example:
        >>> from torch import nn
        >>> layer_parameters(nn.Sequential(nn.Conv2d(1, 8, 3), nn.Conv2d(8, 4, 1)))
        [('0', 80), ('1', 36)]
    """
    counted = _counted(model, trainable_only=False, exclude_pruned=exclude_pruned)
    seen: set[int] = set()
    rows = []
    for name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for p in own)
        if own:
            rows.append((name or type(model).__name__, sum(counted[id(p)] for p in own)))
    return sorted(rows, key=lambda row: -row[1])


def check_budget(
    model: nn.Module,
    max_params: int | None = None,
    *,
    max_flash: int | None = None,
    max_arena: int | None = None,
    core: str = "cortex-m4",
    trainable_only: bool = False,
    exclude_pruned: bool = False,
    top: int = 3,
) -> int:
    """Return the model's parameter count, or raise if it is over any budget given.

    The parameter budget checks **stored** parameters: every entry of every parameter
    tensor, including those a ``torch.nn.utils.prune`` mask holds at zero (a dense model
    file and a dense kernel still store them). ``exclude_pruned=True`` checks only the
    unpruned entries instead. The error says which count it checked.

    The device budgets check :func:`tinyconv.device_estimate.estimate_device` on
    ``core``: ``max_flash`` the model's bytes in flash (its int8 .tflite, without the
    runtime every model shares), ``max_arena`` TFLite Micro's tensor arena. They are
    estimates; the error states the error their fit showed, and ``tinyconv mcu``
    measures the real figures.

    Args:
        model: Any ``nn.Module`` (for the device budgets, one ``torch.fx`` can trace
            that knows its input shape, as every model :func:`tinyconv.build` makes).
        max_params: The largest allowed parameter count (inclusive); ``None``: none.
        max_flash: The largest allowed model flash in bytes; ``None``: none.
        max_arena: The largest allowed tensor arena in bytes; ``None``: none.
        core: The Cortex-M core of the device budgets.
        trainable_only: Count only trainable parameters.
        exclude_pruned: Count only entries no pruning mask holds at zero.
        top: How many of the largest layers to name in the error.

    Returns:
        The parameter count checked.

    Raises:
        BudgetExceededError: With total, budget, overshoot and what was counted (and
            for parameters the largest layers).
        ValueError: If a budget is negative.

    Example:
        >>> from torch import nn
        >>> from torch.nn.utils import prune
        >>> check_budget(nn.Conv2d(1, 8, 3, bias=False), max_params=8000)
        72
        >>> conv = prune.l1_unstructured(nn.Conv2d(1, 8, 3, bias=False), "weight", amount=0.5)
        >>> check_budget(conv, max_params=40, exclude_pruned=True)
        36
        >>> from tinyconv.recipes import get_recipe
        >>> check_budget(get_recipe("mnist_v5").build_model(), max_arena=4096)
        Traceback (most recent call last):
        ...
        tinyconv.parameters.BudgetExceededError: model is estimated at ... arena bytes ...
    """
    for name, budget in (("max_params", max_params), ("max_flash", max_flash),
                         ("max_arena", max_arena)):  # fmt: skip
        if budget is not None and budget < 0:
            raise ValueError(f"{name} must be >= 0, got {budget}")
    total = count_parameters(model, trainable_only=trainable_only, exclude_pruned=exclude_pruned)
    if max_params is not None and total > max_params:
        _over_parameters(model, total, max_params, trainable_only, exclude_pruned, top)
    if max_flash is not None or max_arena is not None:
        _check_device(model, max_flash, max_arena, core)
    return total


def _check_device(
    model: nn.Module, max_flash: int | None, max_arena: int | None, core: str
) -> None:
    from tinyconv.device_estimate import estimate_device

    estimate = estimate_device(model, core)
    for unit, value, budget, error in (
        ("flash bytes", estimate.flash_bytes, max_flash, estimate.errors["flash"]),
        ("arena bytes", estimate.arena_bytes, max_arena, estimate.errors["arena"]),
    ):
        if budget is not None and value > budget:
            raise BudgetExceededError(
                f"model is estimated at {value:,} {unit} on a {core}, over the budget of "
                f"{budget:,} by {value - budget:,} (an estimate: its largest error on the "
                f"{estimate.measured_models} measured models was {100 * error:.1f} %; "
                "tinyconv mcu measures it)",
                total=value,
                budget=budget,
                unit=unit,
            )


def _over_parameters(
    model: nn.Module,
    total: int,
    max_params: int,
    trainable_only: bool,
    exclude_pruned: bool,
    top: int,
) -> None:
    pruned = count_parameters(model, trainable_only) - count_parameters(
        model, trainable_only, exclude_pruned=True
    )
    if exclude_pruned:
        what = f"unpruned parameters ({pruned:,} more held at zero by pruning masks)"
    elif pruned:
        what = (
            f"stored parameters, {pruned:,} of them held at zero by pruning masks "
            "(exclude_pruned=True counts only the unpruned ones)"
        )
    else:
        what = "parameters"
    layers = layer_parameters(model, exclude_pruned=exclude_pruned)[:top]
    largest = ", ".join(f"{name}={count:,}" for name, count in layers)
    raise BudgetExceededError(
        f"model has {total:,} {what}, over the budget of {max_params:,} by "
        f"{total - max_params:,}; largest layers: {largest}",
        total=total,
        budget=max_params,
    )
