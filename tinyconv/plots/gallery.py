"""The misclassified gallery: test images the model gets wrong, most confident mistake first.

Each tile is the raw image (white on black, as stored) titled with its true class, the
prediction and the probability the model gave it, using class names (FashionMNIST's
"Shirt", "Coat", ...) where the digits are not names already.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from tinyconv.data.image_dataset import ImageDataset
from tinyconv.data.scoring import Predictions
from tinyconv.plots._style import new_figure, style

__all__ = ["misclassified_gallery"]


def misclassified_gallery(
    predictions: Predictions,
    dataset: ImageDataset,
    *,
    max_images: int = 24,
    columns: int = 8,
    model_name: str = "model",
) -> Figure:
    """Draw up to ``max_images`` misclassified images, most confident mistake first.

    Args:
        predictions: Scores of every image of ``dataset`` (same order).
        dataset: The scored images.
        max_images: Most tiles to show.
        columns: Tiles per row.
        model_name: What was scored, for the title.

    Returns:
        The figure; each tile's axes has gid ``wrong:<index in dataset>``. With no mistake
        at all, one axes says so.

    Raises:
        ValueError: If ``predictions`` and ``dataset`` differ in length or labels, or
            ``max_images`` or ``columns`` is below 1.

    Example:
        >>> import torch
        >>> data = ImageDataset(torch.zeros(3, 1, 28, 28, dtype=torch.uint8),
        ...     torch.tensor([0, 1, 1]), "toy", ("a", "b"), 0.5, 0.25)
        >>> p = Predictions(data.labels, torch.tensor([0, 0, 1]),
        ...     torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]), ("a", "b"), "toy")
        >>> [ax.get_gid() for ax in misclassified_gallery(p, data).axes]
        ['wrong:1']
    """
    if len(predictions) != len(dataset) or not bool((predictions.labels == dataset.labels).all()):
        raise ValueError(
            f"the predictions ({len(predictions)} images) are not of this dataset "
            f"({len(dataset)} images, {dataset.name!r}); score it with score_images first"
        )
    if max_images < 1 or columns < 1:
        raise ValueError(f"max_images and columns must be >= 1, got {max_images}, {columns}")
    wrong = predictions.wrong()
    shown = wrong[:max_images].tolist()
    names = predictions.class_names
    named = any(not name.isdigit() for name in names)
    title = (
        f"Misclassified {predictions.dataset} test images of {model_name}: "
        f"{len(wrong):,} of {len(predictions):,} wrong; the {len(shown)} most confident "
        "mistakes (probability of the wrong prediction)"
    )
    with style():
        if not shown:
            fig = new_figure(8, 1.5)
            ax = fig.add_subplot()
            ax.axis("off")
            ax.text(0.5, 0.5, "no misclassified image", ha="center", va="center")
            fig.suptitle(title)
            return fig
        cols = min(columns, len(shown))
        rows = math.ceil(len(shown) / cols)
        tile_height = 1.75 if named else 1.55
        width = 1.45 * cols + 0.3
        if width < 11:  # a few tiles: the title on two lines, and room for them
            title = title.replace("; the ", ";\nthe ", 1)
            width = max(width, 8.0)  # one tile alone cut the title to its first words
        fig = new_figure(width, tile_height * rows + 0.6 + 0.2 * title.count("\n"))
        axes = fig.subplots(rows, cols, squeeze=False)
        confidence = predictions.confidence
        for ax in axes.flat:
            ax.axis("off")
        for ax, index in zip(axes.flat, shown, strict=False):
            image = dataset.images[index]
            # grayscale as grey levels, RGB(A) in colour, other channel counts: the first
            pixels = image.permute(1, 2, 0) if image.shape[0] in (3, 4) else image[0]
            ax.imshow(pixels.numpy(), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            true, pred = (
                names[int(predictions.labels[index])],
                names[int(predictions.predicted[index])],
            )
            prob = 100 * float(confidence[index])
            label = (
                f"true {true}\npred {pred}\n{prob:.1f} %"
                if named
                else (f"true {true} → pred {pred}\n{prob:.1f} %")
            )
            ax.set_title(label, fontsize=8)
            ax.set_gid(f"wrong:{index}")
        fig.suptitle(title, fontsize=10)
    return fig
