"""Quantization-aware fine-tuning: an int8 model trained to survive its own rounding.

Post-training int8 (:func:`~tinyconv.export.quantize_int8`) rounds a trained model's
weights and activations once and hopes; a few models lose more than a few tenths of a
point that way. Quantization-aware training (QAT) fine-tunes the model *through* the
rounding instead: fake-quantize operations round weights and activations to int8 levels
in the forward pass (the backward pass goes straight through), so the weights learn to
sit where rounding costs little, and the activation ranges are learned on the way.

The path is PyTorch's maintained one, PT2E in torchao: ``torch.export`` captures the
BatchNorm-folded model (:func:`~tinyconv.export.fold_batchnorm`, the graph that ships),
``prepare_qat_pt2e`` inserts fake-quantize operations chosen by torchao's
``X86InductorQuantizer`` (symmetric per-channel int8 weights; per-tensor asymmetric 8-bit
activations, uint8 with a zero point, ranges tracked by a moving-average min/max), the
engine (:func:`tinyconv.train.fit`) fine-tunes it, and ``convert_pt2e`` turns it into
quantize/dequantize pairs, which ``torch.onnx.export`` writes as an ONNX QDQ model: the
same format the post-training path writes, run by the same onnxruntime and checked the
same way by :func:`~tinyconv.export.export_model`.

The model is captured in eval mode: dropout is gone and a BatchNorm that could not be
folded keeps its running statistics (frozen, as QAT usually freezes them); the weights,
biases and that BatchNorm's affine terms train. While the model trains the activation
observers follow the batches; in eval mode they are frozen, so validation sees the ranges
learned so far. It needs the ``[export]`` extra (onnx, onnxruntime, torchao).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import warnings
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tinyconv._extras import require
from tinyconv.data import ImageDataset, TensorLoader, load_dataset
from tinyconv.data.scoring import _normalization
from tinyconv.data.split import ValidationSplit
from tinyconv.experiment import fine_tune
from tinyconv.export.errors import ExportError
from tinyconv.train import TrainConfig, evaluate

__all__ = [
    "QAT_SPLIT_SEED",
    "QUANTIZER",
    "QuantizationAwareNet",
    "QuantizationAwareResult",
    "check_settings",
    "fine_tune_quantization_aware",
    "fine_tune_quantization_aware_on_dataset",
    "mismatches_allowed",
    "require_torchao",
]

QAT_SPLIT_SEED = 0
"""Seed of the stratified validation split (the one ``tinyconv prune`` uses by default)."""

QUANTIZER = (
    "torchao PT2E QAT, X86InductorQuantizer: symmetric per-channel int8 weights, per-tensor "
    "asymmetric uint8 activations (moving-average min/max)"
)
"""What quantizes a quantization-aware model, as its report records it."""


def check_settings(epochs: object, lr: object, train_images: object = None) -> None:
    """Refuse quantization-aware settings that cannot train, before any work is done.

    Args:
        epochs: Epochs, an integer of at least 1.
        lr: Learning rate, a positive number.
        train_images: ``None`` or an integer of at least 1.

    Raises:
        ExportError: Naming the setting and what it must be.

    Example:
        >>> check_settings(2, 1e-4)
        >>> check_settings(0, 1e-4)
        Traceback (most recent call last):
        ...
        tinyconv.export.errors.ExportError: quantization-aware epochs must be an integer >= 1, got 0
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ExportError(f"quantization-aware epochs must be an integer >= 1, got {epochs!r}")
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0:
        raise ExportError(f"quantization-aware learning rate must be > 0, got {lr!r}")
    bad_count = isinstance(train_images, bool) or not isinstance(train_images, int | None)
    if bad_count or (train_images is not None and train_images < 1):  # type: ignore[operator]
        raise ExportError(f"train_images must be an integer >= 1, got {train_images!r}")


def mismatches_allowed(images: int) -> int:
    """Predictions the int8 ONNX file may differ on from the converted graph: 1 % (at least 1).

    Args:
        images: Test images compared.

    Returns:
        The largest number of differing predictions that still passes.

    Example:
        >>> mismatches_allowed(80), mismatches_allowed(10_000)
        (1, 100)
    """
    return max(1, images // 100)


def require_torchao() -> None:
    """Import torchao, or raise :class:`~tinyconv.errors.MissingExtraError` naming ``[export]``.

    Its import makes torch log a warning about torch's own internals, nothing a user can
    act on; that one is kept quiet.

    Raises:
        MissingExtraError: If torchao is not installed.
    """
    pytree = logging.getLogger("torch.utils._pytree")
    level = pytree.level
    pytree.setLevel(logging.ERROR)
    try:
        require("torchao", "export")
    finally:
        pytree.setLevel(level)


def _torchao() -> tuple[Any, Any, Any]:
    """Return torchao's PT2E entry points: ``(prepare_qat_pt2e, convert_pt2e, quantizer)``."""
    require_torchao()
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_qat_pt2e
    from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
        X86InductorQuantizer,
        get_default_x86_inductor_quantization_config,
    )

    quantizer = X86InductorQuantizer().set_global(
        get_default_x86_inductor_quantization_config(is_qat=True)
    )
    return prepare_qat_pt2e, convert_pt2e, quantizer


class QuantizationAwareNet(nn.Module):
    """A folded model with fake-quantize operations, trainable by :func:`tinyconv.train.fit`.

    ``train()`` lets the activation observers follow the batches; ``eval()`` freezes
    them (the rounding itself is always on). The captured graph has no dropout and keeps
    any unfolded BatchNorm's statistics, in either mode.

    Args:
        folded: The BatchNorm-folded model (:func:`~tinyconv.export.fold_batchnorm`), in
            eval mode; it is not modified.
        input_shape: The model's ``(C, H, W)``.

    Shape:
        - Input: ``[B, C, H, W]`` normalised images.
        - Output: ``[B, num_classes]`` logits, computed with int8 rounding.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=3)], seed=0).eval()
        >>> aware = QuantizationAwareNet(net, (1, 28, 28))
        >>> aware(torch.zeros(2, 1, 28, 28)).shape, aware.num_classes
        (torch.Size([2, 3]), 3)
    """

    def __init__(self, folded: nn.Module, input_shape: tuple[int, int, int]) -> None:
        super().__init__()
        prepare_qat_pt2e, _, quantizer = _torchao()
        example = torch.zeros(2, *input_shape)
        batch = torch.export.Dim("batch", min=1, max=1 << 16)
        try:
            captured = torch.export.export(
                copy.deepcopy(folded).cpu().eval(), (example,), dynamic_shapes=({0: batch},)
            ).module()
            with warnings.catch_warnings():  # a pool whose input stays float is left float
                warnings.filterwarnings("ignore", "The input of maxpool2d is not quantized")
                self.graph = prepare_qat_pt2e(captured, quantizer)
        except Exception as error:  # torch.export's and torchao's error types vary
            raise ExportError(
                f"could not prepare {type(folded).__name__} for quantization-aware "
                f"fine-tuning: {type(error).__name__}: {error}"
            ) from error
        self.input_shape = tuple(input_shape)
        self.num_classes = getattr(folded, "num_classes", None)
        self.train(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.graph(x)

    def train(self, mode: bool = True) -> QuantizationAwareNet:
        """Let the observers follow the batches (``mode``) or freeze them; never the graph.

        Args:
            mode: Training (observers on) or evaluation (observers frozen).

        Returns:
            This model.
        """
        from torchao.quantization.pt2e import disable_observer, enable_observer

        self.training = mode  # the captured graph's own mode stays eval: no dropout
        self.graph.apply(enable_observer if mode else disable_observer)
        return self

    def converted(self) -> torch.fx.GraphModule:
        """Return the int8 model: quantize/dequantize pairs with the learned scales.

        Returns:
            The captured graph the int8 ONNX file is written from; a captured graph has
            no train mode (it computes the same whatever its mode), so
            :func:`~tinyconv.export.onnx.export_onnx` takes it with ``input_shape``. This
            model is left as it is.
        """
        _, convert_pt2e, _ = _torchao()
        try:
            graph = convert_pt2e(copy.deepcopy(self.graph).cpu())
        except Exception as error:  # torchao's error types vary
            raise ExportError(
                f"could not convert the quantization-aware model to int8: "
                f"{type(error).__name__}: {error}"
            ) from error
        for module in graph.modules():  # the flag only: a captured graph has no modes
            module.training = False
        return graph


@dataclass(frozen=True)
class QuantizationAwareResult:
    """A quantization-aware fine-tuning and what it measured (validation only).

    Attributes:
        model: The fine-tuned :class:`QuantizationAwareNet`, in eval mode, on the CPU.
        epochs: Epochs fine-tuned.
        lr: The constant SGD learning rate.
        seed: Seed of the shuffle and augmentation.
        train_images: Images fine-tuned on.
        val_images: Validation images (carved from the training set).
        augmentation: What augmented the batches (the recipe's), or ``"none"``.
        val_acc_float: Validation accuracy of the float model.
        val_acc_start: Validation accuracy with int8 rounding before fine-tuning (the
            observers having seen one pass over the first training batches).
        history: Per-epoch records of the fine-tuning (``eval_acc``: validation, int8
            rounding).
        rounding: Whether the int8 rounding was on (``False``: the float control).
    """

    model: QuantizationAwareNet
    epochs: int
    lr: float
    seed: int
    train_images: int
    val_images: int
    augmentation: str
    val_acc_float: float
    val_acc_start: float
    history: list[dict[str, Any]]
    rounding: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return the record as JSON-able data (without the model)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del data["model"]
        return {"quantizer": QUANTIZER, **data}


def fine_tune_quantization_aware(
    model: nn.Module,
    folded: nn.Module,
    train_set: ImageDataset,
    val_set: ImageDataset,
    *,
    epochs: int,
    lr: float = 1e-4,
    seed: int = 0,
    batch_size: int = 128,
    augment: Any = None,
    augmentation: str = "none",
    progress: bool | None = None,
    rounding: bool = True,
) -> QuantizationAwareResult:
    """Fine-tune ``folded`` with int8 rounding in the loop (PT2E QAT) through the engine.

    Plain SGD (momentum 0.9, no weight decay) at a constant learning rate, a few epochs:
    the model is trained already and only has to settle into its int8 grid. The images
    are normalised as ``model`` was trained (its recorded normalisation).

    Args:
        model: The trained model (for its normalisation and input shape).
        folded: Its BatchNorm-folded copy (:func:`~tinyconv.export.fold_batchnorm`).
        train_set: Training images to fine-tune on.
        val_set: Validation images (carved from the training set; never test images).
        epochs: Epochs, at least 1.
        lr: Learning rate, positive.
        seed: Seed of the shuffle and the augmentation.
        batch_size: Images per step.
        augment: The training augmentation (a recipe's), or ``None``.
        augmentation: How the report names it.
        progress: As :attr:`tinyconv.train.TrainConfig.progress`.
        rounding: ``False`` switches the fake-quantize operations off: the same graph
            fine-tuned the same way in float, the control that tells what the extra
            training gives without int8 in the loop (its model must not be converted).

    Returns:
        The fine-tuned model and its record.

    Raises:
        ExportError: For ``epochs`` below 1 or a learning rate that is not positive.
        MissingExtraError: If torchao is not installed.
    """
    check_settings(epochs, lr)
    norm = _normalization(model, train_set)
    train_set = dataclasses.replace(train_set, mean=norm.mean, std=norm.std)
    val_set = dataclasses.replace(val_set, mean=norm.mean, std=norm.std)
    aware = QuantizationAwareNet(folded, model.input_shape)
    if not rounding:
        from torchao.quantization.pt2e import disable_fake_quant

        aware.graph.apply(disable_fake_quant)
    val_loader = TensorLoader(val_set, 1000)
    val_float = evaluate(folded, val_loader).accuracy
    loader = TensorLoader(train_set, batch_size, shuffle=True, seed=seed, augment=augment)
    aware.train()  # one pass of the observers over a few batches sets the first ranges
    with torch.no_grad():
        for index, (x, _) in enumerate(loader):
            aware(x)
            if index == 9:
                break
    val_start = evaluate(aware.eval(), val_loader).accuracy
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        optimizer="sgd",
        lr=float(lr),
        momentum=0.9,
        scheduler="none",
        seed=seed,
        device="cpu",
        progress=progress,
    )
    history = fine_tune(aware, train_set, val_set, config, augment=augment)
    return QuantizationAwareResult(
        model=aware.eval(),
        epochs=epochs,
        lr=float(lr),
        seed=seed,
        train_images=len(train_set),
        val_images=len(val_set),
        augmentation=augmentation,
        val_acc_float=val_float,
        val_acc_start=val_start,
        history=history.to_list(),
        rounding=rounding,
    )


def fine_tune_quantization_aware_on_dataset(
    model: nn.Module,
    folded: nn.Module,
    dataset: str,
    *,
    data_root: str | os.PathLike[str] | None = None,
    epochs: int,
    lr: float = 1e-4,
    train_images: int | None = None,
    rounding: bool = True,
) -> QuantizationAwareResult:
    """:func:`fine_tune_quantization_aware` on a registered dataset's training images less a split.

    :func:`~tinyconv.data.split.default_val_size` training images (5,000, or a tenth
    of a smaller dataset's; stratified, seed :data:`QAT_SPLIT_SEED`) are held out and
    scored after every epoch; the rest are fine-tuned on, augmented as the ready recipe
    the model file records
    (``metadata["recipe"]``) augments, else not.

    Args:
        model: The trained model.
        folded: Its BatchNorm-folded copy.
        dataset: The registered dataset's name.
        data_root: Where it lives (default ``$TINYCONV_DATA``).
        epochs: Epochs, at least 1.
        lr: Learning rate.
        train_images: Fine-tune on the first N training images (after the split) only.
        rounding: As in :func:`fine_tune_quantization_aware`.

    Returns:
        The fine-tuned model and its record.

    Raises:
        ExportError: For bad epochs, learning rate or ``train_images``.
        SplitError: If the split or ``train_images`` do not fit the training images.
        DatasetNotFoundError: If the dataset is not under ``data_root``.
    """
    check_settings(epochs, lr, train_images)
    full = load_dataset(dataset, data_root, train=True)
    train, val = ValidationSplit(seed=QAT_SPLIT_SEED, train_subset=train_images).carve(full)
    from tinyconv.errors import SpecError
    from tinyconv.recipes import recipe_of_model  # a recipe imports its dataset's pipeline

    recorded = (getattr(model, "metadata", None) or {}).get("recipe")
    try:
        recipe = recipe_of_model(model)
    except (SpecError, OSError):
        augment = None
        augmentation = (
            "none (the model file records no recipe)"
            if recorded is None
            else f"none (recipe {recorded!r} is not a ready recipe, a moved one or a file)"
        )
    else:
        augment = recipe.augmentation()
        names = ", ".join(type(spec).__name__ for spec in recipe.augment) or "none"
        augmentation = f"recipe {recipe.name}: {names}"
    return fine_tune_quantization_aware(
        model, folded, train, val, epochs=epochs, lr=lr, augment=augment,
        augmentation=augmentation, rounding=rounding,
    )  # fmt: skip
