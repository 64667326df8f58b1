"""``evaluate`` a classifier on a loader and ``predict`` classes of raw images.

``evaluate`` reports the mean cross-entropy, the accuracy and the accuracy of every class
(``nan`` for a class without samples). Both functions run without gradients in eval mode and
put the model back in the training mode it had.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinyconv.eval_mode import eval_mode
from tinyconv.normalization import Normalization
from tinyconv.train.device import sum_dtype


@dataclass(frozen=True)
class EvalResult:
    """Scores of a model on one data set.

    Attributes:
        loss: Mean cross-entropy per sample.
        accuracy: Fraction of samples classified correctly.
        per_class_accuracy: Accuracy of each class by label; ``nan`` where a class has no
            samples.
        num_samples: Number of samples evaluated.

    Example:
        >>> result = EvalResult(loss=0.1, accuracy=0.75, per_class_accuracy=[1.0, 0.5],
        ...                     num_samples=4)
        >>> f"{result.accuracy:.0%} of {result.num_samples}"
        '75% of 4'
    """

    loss: float
    accuracy: float
    per_class_accuracy: list[float]
    num_samples: int


def model_device(model: nn.Module) -> torch.device:
    """Return the device of the model's first parameter or buffer (CPU if it has none)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def evaluate(
    model: nn.Module,
    loader: Iterable[tuple[Tensor, Tensor]],
    *,
    device: torch.device | str | None = None,
    num_classes: int | None = None,
) -> EvalResult:
    """Score a classifier on every batch of ``loader``.

    Args:
        model: Maps ``x`` to logits of shape ``[B, num_classes]``.
        loader: Iterable of ``(x, y)`` batches; ``y`` holds int64 class indices.
        device: Where to run; ``None`` means the model's device.
        num_classes: Number of classes; ``None`` takes it from the logits' width.

    Returns:
        Loss, accuracy and per-class accuracy over all samples.

    Raises:
        ValueError: If the loader yields no samples, a label is outside the classes, or the
            logits are not ``num_classes`` wide.

    Example:
        >>> model = nn.Linear(2, 2, bias=False)
        >>> _ = model.weight.data.copy_(torch.eye(2))
        >>> batch = (torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]), torch.tensor([0, 1, 1]))
        >>> result = evaluate(model, [batch])
        >>> result.accuracy, result.per_class_accuracy, result.num_samples
        (0.6666666666666666, [1.0, 0.5], 3)
    """
    device = model_device(model) if device is None else torch.device(device)
    # Everything accumulates on the device and is read once at the end: no sync per batch.
    total_loss = torch.zeros((), dtype=sum_dtype(device), device=device)
    class_seen: Tensor | None = None
    class_correct: Tensor | None = None
    label_low: Tensor | None = None
    label_high: Tensor | None = None
    with eval_mode(model):
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = model(x)
            if num_classes is not None and logits.shape[1] != num_classes:
                raise ValueError(
                    f"num_classes is {num_classes} but the model outputs {logits.shape[1]} "
                    f"logits per sample (logits shape {tuple(logits.shape)})"
                )
            classes = logits.shape[1]
            if class_seen is None or class_correct is None:
                class_seen = torch.zeros(classes, dtype=torch.long, device=device)
                class_correct = torch.zeros(classes, dtype=torch.long, device=device)
            if y.numel() == 0:
                continue
            low, high = y.min(), y.max()
            label_low = low if label_low is None else torch.minimum(label_low, low)
            label_high = high if label_high is None else torch.maximum(label_high, high)
            # clamped, so a bad label cannot fail inside a kernel; it is reported below
            safe = y.clamp(0, classes - 1)
            hits = logits.argmax(dim=1) == y
            total_loss += F.cross_entropy(logits.float(), safe, reduction="sum")
            class_seen.index_add_(0, safe, torch.ones_like(safe))
            class_correct.index_add_(0, safe, hits.long())
    seen = 0 if class_seen is None else int(class_seen.sum())
    if seen == 0 or class_seen is None or class_correct is None:
        raise ValueError("evaluate got no samples: the loader yielded no (or only empty) batches")
    low, high = int(label_low), int(label_high)  # type: ignore[arg-type]
    if low < 0 or high >= len(class_seen):
        raise ValueError(
            f"labels must lie in [0, {len(class_seen)}), got min {low}, max {high}; "
            "pass the right num_classes or check the labels"
        )
    per_class = [
        c / s if s else math.nan
        for c, s in zip(class_correct.tolist(), class_seen.tolist(), strict=True)
    ]
    correct = int(class_correct.sum())
    return EvalResult(float(total_loss) / seen, correct / seen, per_class, seen)


def _prediction_normalization(
    model: nn.Module, mean: Sequence[float] | float | None, std: Sequence[float] | float | None
) -> Normalization:
    """``mean``/``std`` when given, else the model's recorded normalisation."""
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std, or neither to use the model's own")
    if mean is None or std is None:
        recorded = Normalization.of_model(model)
        if recorded is None:
            raise ValueError(
                f"{type(model).__name__} records no normalisation; pass mean= and std=, the "
                "per-channel statistics of its training data (a model read by tinyconv.load "
                "records them)"
            )
        return recorded
    stds = [std] if isinstance(std, int | float) else list(std)
    if not all(isinstance(v, int | float) and v > 0 for v in stds):
        raise ValueError(f"std must be > 0, got {std!r}")
    return Normalization(mean, std)  # type: ignore[arg-type]


def predict(
    model: nn.Module,
    images: Tensor,
    *,
    mean: Sequence[float] | float | None = None,
    std: Sequence[float] | float | None = None,
    device: torch.device | str | None = None,
    batch_size: int = 1024,
) -> Tensor:
    """Return the predicted class of each raw image.

    Images are scaled to ``[0, 1]`` (uint8 is divided by 255), normalised per channel
    exactly as the training loader did (:meth:`~tinyconv.data.Normalization.apply`), and
    classified in batches.

    Args:
        model: The trained classifier.
        images: uint8 in ``[0, 255]`` or float in ``[0, 1]``, shaped ``[N, C, H, W]`` or
            ``[N, H, W]`` (one channel).
        mean: Per-channel normalisation mean of the training data (one number for every
            channel; MNIST: 0.1307). ``None`` with ``std`` ``None``: the normalisation the
            model records (a model read by :func:`tinyconv.load` has it).
        std: Per-channel normalisation standard deviation (MNIST: 0.3081).
        device: Where to run; ``None`` means the model's device.
        batch_size: Images per forward pass.

    Returns:
        int64 class indices of shape ``[N]`` on the CPU.

    Raises:
        ValueError: On a wrong shape, dtype or value range, ``std <= 0``, a bad batch size,
            only one of ``mean`` and ``std``, or neither for a model that records none.

    Example:
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
        >>> _ = model[1].weight.data.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 1.0]]))
        >>> images = torch.tensor([[[255, 0], [0, 0]], [[0, 0], [0, 255]]], dtype=torch.uint8)
        >>> predict(model, images, mean=0.0, std=1.0)
        tensor([0, 1])
        >>> model.normalization = {"mean": [0.0], "std": [1.0]}  # as a loaded model file has
        >>> predict(model, images)
        tensor([0, 1])
    """
    if images.dim() == 3:
        images = images.unsqueeze(1)
    if images.dim() != 4:
        raise ValueError(
            f"images must be shaped [N, C, H, W] or [N, H, W], got {tuple(images.shape)}"
        )
    if images.is_floating_point():
        low, high = (float(images.min()), float(images.max())) if images.numel() else (0.0, 0.0)
        if not (low >= 0.0 and high <= 1.0):
            raise ValueError(
                f"float images must lie in [0, 1], got values in [{low:.4g}, {high:.4g}]; "
                "pass raw images (uint8 or x/255), not already-normalised ones"
            )
        images = images.float()
    elif images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8 or floating point, got dtype {images.dtype}")
    norm = _prediction_normalization(model, mean, std).for_channels(images.shape[1])
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    device = model_device(model) if device is None else torch.device(device)
    predictions = []
    with eval_mode(model):
        for chunk in images.split(batch_size):
            x = norm.apply(chunk).to(device, non_blocking=True)
            predictions.append(model(x).argmax(dim=1).cpu())
    if not predictions:
        return torch.empty(0, dtype=torch.long)
    return torch.cat(predictions)


def evaluate_stacked(
    model: nn.Module, loader: Iterable[tuple[Tensor, Tensor]], device: torch.device | str
) -> list[EvalResult]:
    """Score every seed of a stacked network on the same batches, with no sync per batch.

    Args:
        model: A :class:`~tinyconv.train.StackedNet` (or its compiled form).
        loader: ``(x, y)`` batches of single-model images; each seed sees every batch.
        device: Where to run.

    Returns:
        One :class:`~tinyconv.train.EvalResult` per seed, in stacking order.

    Raises:
        ValueError: If the loader yields no samples.
    """
    net = getattr(model, "_orig_mod", model)
    count, classes = net.stack_size, net.num_classes
    total = torch.zeros(count, dtype=sum_dtype(device), device=device)
    seen = torch.zeros(classes, dtype=torch.long, device=device)
    hits = torch.zeros(count, classes, dtype=torch.long, device=device)
    with eval_mode(model):
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = model(net.repeat_input(x))  # b k classes
            for k in range(count):
                total[k] += F.cross_entropy(logits[:, k].float(), y, reduction="sum")
                hits[k] += torch.bincount(y[logits[:, k].argmax(dim=1) == y], minlength=classes)
            seen += torch.bincount(y, minlength=classes)
    samples = int(seen.sum())
    if samples == 0:
        raise ValueError("evaluate_stacked got no samples: the loader yielded no batches")
    results = []
    for k in range(count):
        pairs = zip(hits[k].tolist(), seen.tolist(), strict=True)
        per_class = [h / s if s else float("nan") for h, s in pairs]
        results.append(
            EvalResult(float(total[k]) / samples, int(hits[k].sum()) / samples, per_class, samples)
        )
    return results
