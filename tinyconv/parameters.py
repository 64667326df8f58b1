"""Exact parameter counting and the parameter-budget check.

What is counted: every ``nn.Parameter`` reachable from the model, once, even
when a tensor is shared between layers. BatchNorm's affine weight and bias are
parameters and count; its running mean, variance and batch counter are buffers
and do not.
"""

from __future__ import annotations

from torch import nn

from tinyconv.errors import TinyconvError


class BudgetExceededError(TinyconvError, ValueError):
    """Raised by :func:`check_budget` when a model has more parameters than allowed.

    A ``ValueError``, so code that already catches bad values keeps working.

    Args:
        message: What went wrong: total, budget, overshoot and the largest layers.
        total: The model's parameter count.
        budget: The allowed maximum.

    Attributes:
        total: The model's parameter count.
        budget: The allowed maximum.

    Example:
        >>> from torch import nn
        >>> try:
        ...     check_budget(nn.Linear(10, 10), max_params=100)
        ... except BudgetExceededError as error:
        ...     print(error.total, error.budget)
        110 100
    """

    def __init__(self, message: str, *, total: int, budget: int) -> None:
        super().__init__(message)
        self.total = total
        self.budget = budget


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Count a model's parameters exactly, each shared tensor once.

    Args:
        model: Any ``nn.Module``.
        trainable_only: Count only parameters with ``requires_grad=True``.

    Returns:
        The number of scalar parameters.

    Example:
        >>> from torch import nn
        >>> count_parameters(nn.BatchNorm2d(8))  # affine weight and bias; running stats are buffers
        16
        >>> shared = nn.Linear(4, 4)
        >>> count_parameters(nn.Sequential(shared, shared))  # a shared layer counts once
        20
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def layer_parameters(model: nn.Module) -> list[tuple[str, int]]:
    """List each module that owns parameters directly, with its count, largest first.

    Args:
        model: Any ``nn.Module``.

    Returns:
        ``(module name, parameter count)`` pairs; a shared tensor is listed under
        the first module that owns it.

    Example:
        >>> from torch import nn
        >>> layer_parameters(nn.Sequential(nn.Conv2d(1, 8, 3), nn.Conv2d(8, 4, 1)))
        [('0', 80), ('1', 36)]
    """
    seen: set[int] = set()
    rows = []
    for name, module in model.named_modules():
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for p in own)
        if own:
            rows.append((name or type(model).__name__, sum(p.numel() for p in own)))
    return sorted(rows, key=lambda row: -row[1])


def check_budget(
    model: nn.Module, max_params: int, *, trainable_only: bool = False, top: int = 3
) -> int:
    """Return the model's parameter count, or raise if it exceeds ``max_params``.

    Args:
        model: Any ``nn.Module``.
        max_params: The largest allowed parameter count (inclusive).
        trainable_only: Count only trainable parameters.
        top: How many of the largest layers to name in the error.

    Returns:
        The parameter count.

    Raises:
        BudgetExceededError: With total, budget, overshoot and the largest layers.
        ValueError: If ``max_params`` is negative.

    Example:
        >>> from torch import nn
        >>> check_budget(nn.Conv2d(1, 8, 3, bias=False), max_params=8000)
        72
    """
    if max_params < 0:
        raise ValueError(f"max_params must be >= 0, got {max_params}")
    total = count_parameters(model, trainable_only=trainable_only)
    if total <= max_params:
        return total
    largest = ", ".join(f"{name}={count:,}" for name, count in layer_parameters(model)[:top])
    raise BudgetExceededError(
        f"model has {total:,} parameters, over the budget of {max_params:,} by "
        f"{total - max_params:,}; largest layers: {largest}",
        total=total,
        budget=max_params,
    )
