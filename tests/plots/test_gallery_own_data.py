"""The misclassified gallery for a user's images: colour tiles, a title that fits."""

from __future__ import annotations

import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

from tinyconv.data import ImageDataset, Predictions
from tinyconv.plots import misclassified_gallery


def rgb_set(count: int) -> ImageDataset:
    images = torch.zeros(count, 3, 8, 8, dtype=torch.uint8)
    images[:, 0] = 200  # red
    return ImageDataset(
        images, torch.zeros(count, dtype=torch.long), "patches", ("red", "blue"), 0.5, 0.5
    )


def test_one_mistake_alone_keeps_its_whole_title_and_its_colour() -> None:
    data = rgb_set(3)
    probabilities = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.8, 0.2]])
    predictions = Predictions.from_logits(probabilities.log(), data)
    fig = misclassified_gallery(predictions, data, model_name="a model with a long name")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    title = fig._suptitle.get_window_extent(canvas.get_renderer())
    assert title.x0 >= 0 and title.x1 <= fig.bbox.x1  # not cut at the figure's edges
    (tile,) = [ax for ax in fig.axes if ax.get_gid() == "wrong:1"]
    drawn = tile.images[0].get_array()
    assert drawn.shape == (8, 8, 3) and int(drawn[0, 0, 0]) == 200  # RGB, not a grey channel
