"""Score a model on a labelled image set: the one place a model meets a dataset's images.

:func:`check_model_fits` refuses a model made for other images (dataset name, image shape,
number of classes); :func:`model_inputs` normalises images as the model was trained (its
recorded :class:`~tinyconv.data.Normalization`, else the dataset's); :func:`score_images`
classifies every image and keeps labels, predictions and softmax probabilities in a
:class:`Predictions`. The figures (confusion matrix, gallery, SE gates) and the report use
these. :func:`top1_accuracy` and :func:`argmax_agreement` score outputs that another runtime
computed (onnxruntime, LiteRT, TFLite Micro, the emulated Cortex-M): a prediction is
always the argmax of the logits, first index on a tie.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tinyconv.eval_mode import eval_mode
from tinyconv.normalization import Normalization

from .errors import DatasetMismatchError
from .image_dataset import ImageDataset

__all__ = [
    "Predictions",
    "argmax_agreement",
    "check_model_fits",
    "model_inputs",
    "normalized_batches",
    "score_images",
    "top1_accuracy",
]


def _predicted(logits: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(logits, torch.Tensor):
        return logits.detach().cpu().argmax(dim=1).numpy()
    return np.asarray(logits).argmax(axis=1)


def top1_accuracy(logits: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """Fraction of images whose largest logit is at their label.

    Args:
        logits: ``[N, K]`` outputs (float logits, or int8 outputs of a quantized file).
        labels: True classes of at least the first ``N`` images (more are ignored).

    Returns:
        The accuracy in ``[0, 1]``.

    Shape:
        logits ``[N, K]``, labels ``[M]`` with ``M >= N``.

    Example:
        >>> top1_accuracy(np.array([[0.0, 2.0], [3.0, 1.0]]), torch.tensor([1, 1, 0]))
        0.5
    """
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    return float((_predicted(logits) == np.asarray(labels)[: len(logits)]).mean())


def argmax_agreement(first: torch.Tensor | np.ndarray, second: torch.Tensor | np.ndarray) -> float:
    """Fraction of images two sets of outputs predict the same class for.

    Args:
        first: ``[N, K]`` outputs of one runtime.
        second: ``[N, K]`` outputs of another for the same images.

    Returns:
        The agreement in ``[0, 1]``.

    Example:
        >>> argmax_agreement(np.array([[0, 2], [3, 1]]), np.array([[1, 2], [0, 1]]))
        0.5
    """
    return float((_predicted(first) == _predicted(second)).mean())


@dataclass(frozen=True, eq=False)
class Predictions:
    """Every scored image's label, prediction and class probabilities.

    Attributes:
        labels: True classes, int64 ``[N]``.
        predicted: Predicted classes (argmax of the logits), int64 ``[N]``.
        probabilities: Softmax of the logits, float32 ``[N, K]``.
        class_names: Names of the ``K`` classes, in label order.
        dataset: Name of the scored data (``"mnist"``, ``"fashion_mnist"``).

    Example:
        >>> p = Predictions(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]),
        ...     torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]), ("a", "b"), "toy")
        >>> p.confusion_matrix().tolist(), p.accuracy, p.wrong().tolist()
        ([[1, 0], [1, 1]], 0.6666666666666666, [1])
    """

    labels: torch.Tensor
    predicted: torch.Tensor
    probabilities: torch.Tensor
    class_names: tuple[str, ...]
    dataset: str

    @classmethod
    def from_logits(cls, logits: torch.Tensor | np.ndarray, dataset: ImageDataset) -> Predictions:
        """Score logits (from PyTorch, ONNX Runtime, ...) against ``dataset``'s labels.

        Args:
            logits: ``[N, K]`` logits of the first ``N`` images of ``dataset`` (a tensor or
                a NumPy array).
            dataset: The scored images' dataset.

        Returns:
            The predictions of those ``N`` images.

        Example:
            >>> toy = ImageDataset(torch.zeros(2, 1, 2, 2, dtype=torch.uint8),
            ...     torch.tensor([1, 0]), "toy", ("a", "b"), 0.5, 0.25)
            >>> Predictions.from_logits(torch.tensor([[0.0, 2.0], [0.0, 1.0]]), toy).accuracy
            0.5
        """
        logits = torch.as_tensor(logits).float()
        return cls(
            labels=dataset.labels[: len(logits)].clone(),
            predicted=logits.argmax(dim=1),
            probabilities=torch.softmax(logits, dim=1),
            class_names=tuple(dataset.class_names),
            dataset=dataset.name,
        )

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def accuracy(self) -> float:
        """Fraction of images classified correctly."""
        return float((self.predicted == self.labels).double().mean())

    @property
    def confidence(self) -> torch.Tensor:
        """Probability the model gives its own prediction, float32 ``[N]``."""
        return self.probabilities.gather(1, self.predicted[:, None])[:, 0]

    def confusion_matrix(self) -> torch.Tensor:
        """Return counts ``[K, K]``: row = true class, column = predicted class."""
        classes = len(self.class_names)
        flat = self.labels * classes + self.predicted
        return torch.bincount(flat, minlength=classes * classes).reshape(classes, classes)

    def wrong(self) -> torch.Tensor:
        """Return the indices of misclassified images, most confident mistake first.

        Ties keep index order, so the order is deterministic.
        """
        indices = torch.nonzero(self.predicted != self.labels).flatten()
        order = torch.sort(-self.confidence[indices], stable=True).indices
        return indices[order]


def check_model_fits(model: nn.Module, dataset: ImageDataset) -> None:
    """Raise unless ``model`` was made for images like those of ``dataset``.

    Args:
        model: A :class:`~tinyconv.TinyNet`, possibly loaded by :func:`tinyconv.load`.
        dataset: The images to score.

    Raises:
        DatasetMismatchError: If the model records another dataset name, expects another
            image shape, or has another number of classes.
    """
    trained_on = getattr(model, "dataset", None)
    if trained_on is not None and trained_on != dataset.name:
        raise DatasetMismatchError(
            f"the model was trained on {trained_on!r} but the images are {dataset.name!r}; "
            f"score it on {trained_on!r} images (--dataset {trained_on}) or use a model "
            f"trained on {dataset.name!r}"
        )
    expected = getattr(model, "input_shape", None)  # a TinyNet's (its one owner)
    shape = dataset.image_shape
    if expected is not None and tuple(expected) != shape:
        raise DatasetMismatchError(
            f"the model expects images of shape {tuple(expected)} but {dataset.name!r} has "
            f"{shape}; use a model made for these images"
        )
    classes = getattr(model, "num_classes", None)
    if classes is not None and classes != len(dataset.class_names):
        raise DatasetMismatchError(
            f"the model has {classes} classes but {dataset.name!r} has "
            f"{len(dataset.class_names)}; use a model made for this dataset"
        )


def _normalization(model: nn.Module, dataset: ImageDataset) -> Normalization:
    recorded = Normalization.of_model(model)
    return (recorded or dataset.normalization).for_channels(dataset.image_shape[0])


def model_inputs(model: nn.Module, dataset: ImageDataset, count: int | None = None) -> torch.Tensor:
    """Return the first ``count`` images of ``dataset`` as the model takes them.

    Scaled to ``[0, 1]`` and normalised with the model's recorded normalisation (a model
    file keeps the one it was trained with), else the dataset's.

    Args:
        model: The model (for its normalisation).
        dataset: The images.
        count: How many, from the start (``None``: all).

    Returns:
        float32 ``[N, C, H, W]`` on the CPU.

    Example:
        >>> toy = ImageDataset(torch.full((3, 1, 2, 2), 255, dtype=torch.uint8),
        ...     torch.tensor([0, 1, 0]), "toy", ("a", "b"), 0.5, 0.25)
        >>> model_inputs(nn.Identity(), toy, 2).shape, float(model_inputs(nn.Identity(), toy).max())
        (torch.Size([2, 1, 2, 2]), 2.0)
    """
    images = dataset.images if count is None else dataset.images[:count]
    return _normalization(model, dataset).apply(images)


def normalized_batches(
    model: nn.Module, dataset: ImageDataset, batch_size: int = 1000
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(x, y)`` batches of ``dataset`` in order, normalised as the model was trained.

    Args:
        model: The model (for its normalisation, as in :func:`model_inputs`).
        dataset: The images.
        batch_size: Images per batch.

    Yields:
        float32 images ``[B, C, H, W]`` and int64 labels ``[B]``, on the CPU.
    """
    norm = _normalization(model, dataset)
    for start in range(0, len(dataset), batch_size):
        images = dataset.images[start : start + batch_size]
        yield norm.apply(images), dataset.labels[start : start + batch_size]


def score_images(model: nn.Module, dataset: ImageDataset, *, batch_size: int = 1000) -> Predictions:
    """Classify every image of ``dataset`` and keep labels, predictions and probabilities.

    Runs on the CPU without gradients in eval mode; the model's own mode is restored.

    Args:
        model: The classifier (a TinyNet, or any module mapping images to logits).
        dataset: Labelled images, e.g. ``load_dataset("mnist", root, train=False)``.
        batch_size: Images per forward pass.

    Returns:
        The predictions, in the dataset's order.

    Raises:
        DatasetMismatchError: If the model was made for other images (see
            :func:`check_model_fits`).

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=2)], seed=0)
        >>> toy = ImageDataset(torch.zeros(3, 1, 28, 28, dtype=torch.uint8),
        ...     torch.tensor([0, 1, 1]), "toy", ("a", "b"), 0.5, 0.25)
        >>> score_images(net, toy).confusion_matrix().sum().item()
        3
    """
    check_model_fits(model, dataset)
    logits = []
    with torch.no_grad(), eval_mode(model):
        for x, _ in normalized_batches(model, dataset, batch_size):
            logits.append(model(x).float())
    return Predictions.from_logits(torch.cat(logits), dataset)
