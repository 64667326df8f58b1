"""What a TinyNet accepts as input: the checks behind :meth:`TinyNet.check_input`.

A batch must have the model's shape ``(B, in_channels, *input_size)``, a floating-point
dtype equal to the weights' (unless autocast is on), and, in eval mode for a model that
records the normalisation it was trained with, values near the range that normalisation
gives pixels: float images left in 0..255, or normalised twice, fall far outside and
would all be given one class without a word. The range is checked for batches on the
CPU only: on an accelerator, reading it would make the host wait for the device at
every batch. Each failure is one :class:`~tinyconv.errors.ModelInputError` naming what
came and the fix. The checks run in eager mode only (:meth:`TinyNet.forward` skips them
while tracing).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tinyconv.errors import ModelInputError
from tinyconv.normalization import Normalization

__all__ = ["RANGE_MARGIN", "check_model_input", "normalised_range"]

RANGE_MARGIN = 5.0
"""How far, in widths of the normalised pixel range, an eval-mode input may stray from that
range before it is refused. MNIST's pixels 0..1 become -0.42..2.82 once normalised, so
inputs within -16.6..19.1 pass, and 0..255 floats (up to 822 once normalised) do not."""


def normalised_range(normalization: Normalization) -> tuple[float, float]:
    """Return the lowest and highest value pixels in ``[0, 1]`` take once normalised.

    Args:
        normalization: Per-channel mean and std of ``x / 255``.

    Returns:
        ``(low, high)`` over all channels.

    Example:
        >>> low, high = normalised_range(Normalization(0.1307, 0.3081))  # MNIST
        >>> round(low, 3), round(high, 3)
        (-0.424, 2.821)
    """
    pairs = list(zip(normalization.mean, normalization.std, strict=True))
    return min(-m / s for m, s in pairs), max((1 - m) / s for m, s in pairs)


def _check_shape(x: torch.Tensor, expected: tuple[int, ...]) -> None:
    if x.ndim == 4 and tuple(x.shape[1:]) == expected:
        return
    want = f"(B, {', '.join(map(str, expected))})"
    hint = ""
    if x.ndim == 3 and tuple(x.shape) == expected:
        hint = "; add a batch dimension with x.unsqueeze(0)"
    elif x.ndim == 4 and x.shape[1] != expected[0]:
        hint = f"; the model was built with in_channels={expected[0]}"
    elif x.ndim == 4:
        hint = f"; the model was built with input_size={expected[1:]}"
    raise ModelInputError(f"TinyNet expects input of shape {want}, got {tuple(x.shape)}{hint}")


def _check_dtype(x: torch.Tensor, model: nn.Module) -> None:
    if not x.is_floating_point():
        raise ModelInputError(
            f"TinyNet expects floating-point images, got dtype {x.dtype}; convert "
            "uint8 pixels with x.float() / 255 (and normalise with the dataset's "
            "mean and std), or load batches through tinyconv.data.TensorLoader, "
            "which does both"
        )
    weight = next((p for p in model.parameters() if p.is_floating_point()), None)
    if weight is None or x.dtype == weight.dtype:
        return
    if torch.is_autocast_enabled(x.device.type):
        return  # autocast casts inputs and weights itself
    raise ModelInputError(
        f"TinyNet's weights are {weight.dtype} but the input is {x.dtype}; convert the "
        f"input with x.to({weight.dtype}) (or the model with model.to({x.dtype}))"
    )


def _check_range(x: torch.Tensor, normalization: Normalization) -> None:
    low, high = normalised_range(normalization)
    margin = RANGE_MARGIN * (high - low)
    smallest, largest = (float(v) for v in torch.aminmax(x.detach()))
    if math.isnan(smallest) or math.isnan(largest):
        return  # NaN says nothing about the scale; the training loop's guard reports it
    if low - margin <= smallest and largest <= high + margin:
        return
    raise ModelInputError(
        f"TinyNet got input values from {smallest:.4g} to {largest:.4g}, far outside "
        f"the {low:.3g}..{high:.3g} its normalised inputs take (pixels in 0..1, mean "
        f"{list(normalization.mean)}, std {list(normalization.std)}): were the images "
        "left in 0..255, or normalised twice? Give it (x / 255 - mean) / std per channel, "
        "or let tinyconv.train.predict(model, images) do it"
    )


def check_model_input(
    x: torch.Tensor,
    model: nn.Module,
    expected: tuple[int, ...],
    normalization: Normalization | None,
) -> None:
    """Raise :class:`~tinyconv.errors.ModelInputError` for a batch ``model`` cannot use.

    Args:
        x: The batch.
        model: The model (its weights' dtype, and whether it is in eval mode).
        expected: ``(in_channels, height, width)``.
        normalization: The model's recorded normalisation, or ``None`` (no range check).

    Raises:
        ModelInputError: For a wrong shape, a non-float dtype or one other than the
            weights', or (eval mode, normalisation known, a CPU batch) values far outside
            the range normalised pixels take.

    Example:
        >>> net = nn.Conv2d(1, 2, 3).eval()
        >>> mnist = Normalization(0.1307, 0.3081)
        >>> check_model_input(torch.zeros(2, 1, 8, 8), net, (1, 8, 8), mnist)  # fine
        >>> check_model_input(torch.full((2, 1, 8, 8), 255.0), net, (1, 8, 8), mnist)
        Traceback (most recent call last):
        ...
        tinyconv.errors.ModelInputError: TinyNet got input values from 255 to 255, far outside the -0.424..2.82 its normalised inputs take (pixels in 0..1, mean [0.1307], std [0.3081]): were the images left in 0..255, or normalised twice? Give it (x / 255 - mean) / std per channel, or let tinyconv.train.predict(model, images) do it
    """  # noqa: E501
    _check_shape(x, expected)
    _check_dtype(x, model)
    if normalization is not None and not model.training and x.numel() and x.device.type == "cpu":
        _check_range(x, normalization)  # on an accelerator, reading the range would stall it
