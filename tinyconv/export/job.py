"""What every export target starts from, resolved once: :class:`ExportJob`.

An export reads a model (or a model file), checks it is trained and in eval mode, finds
the dataset it was trained on, loads and normalises the test images it is verified on,
folds its BatchNorms and computes PyTorch's own logits, the reference every exported
file is compared with. :func:`prepare_export` does this once for every target
(:mod:`tinyconv.export.pipeline`); a target then only converts, quantizes, verifies and
writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tinyconv.data import ImageDataset, load_dataset, model_dataset
from tinyconv.data.scoring import check_model_fits, model_inputs
from tinyconv.errors import ModelFileError
from tinyconv.export.errors import CalibrationDataError, ExportError, UntrainedModelError
from tinyconv.fold import FoldReport, fold_batchnorm
from tinyconv.model import TinyNet
from tinyconv.model_file import load
from tinyconv.workers import busy_machine_warning

__all__ = ["ExportJob", "check_test_images", "check_trained", "prepare_export", "resolve_model"]


def check_trained(model: nn.Module) -> None:
    """Raise :class:`UntrainedModelError` for a model in training mode or never trained.

    Args:
        model: The model to export.

    Raises:
        UntrainedModelError: If any module is in training mode, or a BatchNorm has never
            seen a batch (``num_batches_tracked == 0``).
    """
    training = [name or "the model" for name, m in model.named_modules() if m.training]
    if training:
        raise UntrainedModelError(
            f"{training[0]} is in training mode; export a trained model in eval mode: call "
            "model.eval() first, or export a model file written by tinyconv.save"
        )
    for name, module in model.named_modules():
        tracked = getattr(module, "num_batches_tracked", None)
        is_norm = isinstance(module, nn.modules.batchnorm._BatchNorm)
        if is_norm and tracked is not None and int(tracked) == 0:
            raise UntrainedModelError(
                f"BatchNorm {name} has never seen a batch (num_batches_tracked=0): the model "
                "is untrained; train it first (e.g. python examples/mnist_v5.py) and export "
                "the model file it saves"
            )


def resolve_model(
    model_or_path: nn.Module | str | os.PathLike[str],
) -> tuple[TinyNet, str, str]:
    """The TinyNet to export, how reports name it, and the default stem of its files.

    Args:
        model_or_path: A TinyNet (or one compiled by ``torch.compile``), a model file, or
            the name of a model tinyconv ships (``"mnist_v5"``).

    Returns:
        ``(model, source, stem)``: ``source`` is the file's path or the class name;
        ``stem`` the file's name without ``.model.pt``, or ``"model"``.

    Raises:
        ModelFileError: For a missing, corrupt or non-tinyconv model file.
        ExportError: For a module that is not a TinyNet.
    """
    if isinstance(model_or_path, nn.Module):
        model = getattr(model_or_path, "_orig_mod", model_or_path)
        if not isinstance(model, TinyNet):
            raise ExportError(
                f"an export needs a TinyNet (made by tinyconv.build or read by "
                f"tinyconv.load), got {type(model).__name__}"
            )
        return model, type(model).__name__, "model"
    from tinyconv.pretrained import SHIPPED, shipped_path

    path = Path(model_or_path)
    if not path.is_file() and shipped_path(str(model_or_path)) is None:
        raise ModelFileError(
            f"no model file at {str(path)!r}; check the path (a study saves "
            "<out>/<recipe>/seed<N>.model.pt; tinyconv.save writes one from a model), or "
            f"give the name of a model tinyconv ships ({', '.join(sorted(SHIPPED))})"
        )
    return load(path), str(path), path.name.removesuffix(".pt").removesuffix(".model")


@dataclass(frozen=True)
class ExportJob:
    """A trained model ready to export: its test images, folded copy and reference logits.

    Attributes:
        model: The trained TinyNet, in eval mode (never changed).
        source: How reports name the model (its file's path, or the class name).
        stem: Base name of the files written.
        dataset: Name of the registered dataset it is calibrated and scored on.
        data_root: Where the dataset lives (``None``: ``$TINYCONV_DATA``).
        test: The test split.
        images: The test images scored, normalised as in training.
        labels: Their labels.
        folded: The BatchNorm-folded copy every target converts.
        fold: What folding did.
        reference: PyTorch's fp32 logits of :attr:`model` on :attr:`images`.
        busy_machine: The warning about other processes when the export began, or ``""``
            (none, or not read: only a target that times the model asks).

    Shape:
        - images: :math:`(N, C, H, W)`; labels :math:`(N,)`; reference :math:`(N, K)`.
    """

    model: TinyNet
    source: str
    stem: str
    dataset: str
    data_root: str | os.PathLike[str] | None
    test: ImageDataset
    images: torch.Tensor
    labels: torch.Tensor
    folded: nn.Module
    fold: FoldReport
    reference: np.ndarray
    busy_machine: str

    def file(self, suffix: str) -> str:
        """The name of the output file ending in ``suffix`` (``".onnx"`` -> ``<stem>.onnx``)."""
        return f"{self.stem}{suffix}"

    def training_images(self, count: int) -> torch.Tensor:
        """The first ``count`` training images, normalised: what calibrates int8.

        Never test images.

        Args:
            count: How many (at least 1).

        Returns:
            Float images ``[count, C, H, W]`` (fewer if the split is smaller).

        Raises:
            CalibrationDataError: For a count below 1.
        """
        if count < 1:
            raise CalibrationDataError(f"calibration_images must be >= 1, got {count}")
        train = load_dataset(self.dataset, self.data_root, train=True)  # the test's shape
        return model_inputs(self.model, train, count)


def check_test_images(test_images: int | None) -> None:
    """Refuse a count of test images below 1 (``None``: all of them).

    Raises:
        ExportError: For a count below 1.
    """
    if test_images is not None and test_images < 1:
        raise ExportError(f"test_images must be >= 1, got {test_images}")


def prepare_export(
    model: TinyNet,
    source: str,
    stem: str,
    *,
    dataset: str | None,
    data_root: str | os.PathLike[str] | None,
    test_images: int | None,
    times_latency: bool = False,
) -> ExportJob:
    """Load the test images, fold the model and compute the reference logits, once.

    Args:
        model: A trained TinyNet in eval mode (:func:`check_trained`).
        source: How reports name it.
        stem: Base name of the files.
        dataset: The registered dataset (default: the one the model records).
        data_root: Where the dataset lives (default ``$TINYCONV_DATA``).
        test_images: Score on the first N test images (``None``: all of them).
        times_latency: Read how busy the machine is first (0.25 s), for a target that
            times the model (its report says whether other processes competed).

    Returns:
        The job every target writes from.

    Raises:
        DatasetRegistryError: If the model records no dataset and none is given.
        ExportError: For ``test_images`` below 1.
        DatasetMismatchError: For a model of another dataset, image shape or classes.
    """
    # read before the work, whose own load would count against it
    busy = (
        busy_machine_warning(torch.get_num_threads()).removeprefix("warning: ")
        if times_latency
        else ""
    )
    check_test_images(test_images)
    name = model_dataset(model, dataset, label=source).name
    test = load_dataset(name, data_root, train=False)
    check_model_fits(model, test)  # its dataset, image shape and classes
    images = model_inputs(model, test, test_images)
    folded, fold = fold_batchnorm(model)
    with torch.inference_mode():
        reference = model(images).numpy()
    return ExportJob(
        model=model,
        source=source,
        stem=stem,
        dataset=name,
        data_root=data_root,
        test=test,
        images=images,
        labels=test.labels[: len(images)],
        folded=folded,
        fold=fold,
        reference=reference,
        busy_machine=busy,
    )
