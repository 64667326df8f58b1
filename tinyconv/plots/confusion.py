"""The confusion matrix on a test set, as counts and row-normalised, and per-class accuracy.

Rows are true classes, columns predictions. The counts panel shows every cell's number;
the row-normalised panel shows what share of each true class went where, coloured with
cividis (lightness grows with the share, so it reads in grayscale). The third panel is a
dot plot of each class's accuracy (the diagonal of the row-normalised matrix).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from tinyconv.data.scoring import Predictions
from tinyconv.plots._style import SEQUENTIAL_CMAP, TEST_COLOR, new_figure, style

__all__ = ["confusion_figure"]


def _text_color(share: float) -> str:
    return "black" if share > 0.55 else "white"  # dark text on the light end of cividis


def confusion_figure(predictions: Predictions, *, model_name: str = "model") -> Figure:
    """Draw the confusion matrix (counts and row-normalised) and the per-class accuracy.

    Args:
        predictions: Scores of every image, from :func:`~tinyconv.data.score_images`.
        model_name: What was scored, for the title (e.g. ``"mnist_v5 seed 0"``).

    Returns:
        The figure: counts written in the cells of the first axes (image gid
        ``confusion:counts``), shares in % in the second (``confusion:normalized``), both
        coloured by share, and per-class accuracy in the third (points gid ``per_class``).

    Example:
        >>> import torch
        >>> p = Predictions(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]),
        ...     torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]), ("a", "b"), "toy")
        >>> fig = confusion_figure(p)
        >>> sum(int(text.get_text()) for text in fig.axes[0].texts)  # images scored
        3
    """
    counts = predictions.confusion_matrix().numpy()
    names = list(predictions.class_names)
    classes = len(names)
    row_sums = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_sums, out=np.zeros(counts.shape), where=row_sums > 0)
    per_class = 100 * np.diag(shares)
    long_names = max(len(name) for name in names) > 3
    with style():
        fig = new_figure(15.5, 5.4 if long_names else 5.0)
        count_ax, share_ax, acc_ax = fig.subplots(1, 3, width_ratios=[1, 1, 0.7])
        for ax, values, title, gid in (
            (count_ax, counts, "Counts", "confusion:counts"),
            (share_ax, 100 * shares, "Share of each true class (%)", "confusion:normalized"),
        ):
            # Both panels are coloured by share (raw counts would colour only the diagonal);
            # the numbers written in the cells are what differs.
            image = ax.imshow(
                100 * shares, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=100, interpolation="nearest"
            )
            image.set_gid(gid)
            for row in range(classes):
                for col in range(classes):
                    value = values[row, col]
                    if value == 0:
                        continue
                    text = f"{int(value)}" if gid.endswith("counts") else f"{value:.1f}"
                    ax.text(
                        col,
                        row,
                        text,
                        ha="center",
                        va="center",
                        fontsize=7.5,
                        color=_text_color(shares[row, col]),
                    )
            ax.set_xticks(
                range(classes),
                names,
                rotation=45 if long_names else 0,
                ha="right" if long_names else "center",
            )
            ax.set_yticks(range(classes), names)
            ax.set_xlabel("predicted class")
            ax.set_ylabel("true class")
            ax.set_title(title)
            ax.grid(False)
        colorbar = fig.colorbar(
            share_ax.images[0],
            ax=share_ax,
            fraction=0.046,
            pad=0.03,
            label="share of true class (%)",
        )
        colorbar.outline.set_visible(False)

        rows = np.arange(classes)
        acc_ax.hlines(rows, per_class.min() - 1, per_class, color="#bbbbbb", linewidth=1)
        (dots,) = acc_ax.plot(per_class, rows, "o", color=TEST_COLOR, markersize=6)
        dots.set_gid("per_class")
        for row, value in enumerate(per_class):
            acc_ax.annotate(
                f"{value:.1f}",
                (value, row),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        acc_ax.set_yticks(rows, names)
        acc_ax.set_ylim(classes - 0.5, -0.5)
        low = float(np.floor(per_class.min() - 1))
        acc_ax.set_xlim(low, 100.0 + (100.0 - low) * 0.12)
        acc_ax.set_xlabel("accuracy (%)")
        acc_ax.set_title("Per-class accuracy")
        scored = len(predictions)
        fig.suptitle(
            f"Confusion matrix of {model_name} on the {predictions.dataset} test set: "
            f"{scored:,} images, accuracy {100 * predictions.accuracy:.2f} % "
            f"({scored - int(np.trace(counts)):,} wrong)"
        )
    return fig
