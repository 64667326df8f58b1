"""Does the channel attention attend? The mean SE gate per channel for each class.

:func:`se_gate_means` runs the test images through the model and records, for every
:class:`~tinyconv.SqueezeExcite` block, the gate each channel got, averaged over the
images of each true class. :func:`se_gates_figure` draws that as a heatmap (classes x
channels, cividis) with, under it, how much each channel's mean gate varies between
classes: gates that hardly vary act as fixed per-channel scales, not as attention.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from tinyconv.blocks.squeeze_excite import SqueezeExcite
from tinyconv.data.image_dataset import ImageDataset
from tinyconv.data.scoring import check_model_fits, normalized_batches
from tinyconv.eval_mode import eval_mode
from tinyconv.plots._style import SEQUENTIAL_CMAP, new_figure, style

__all__ = ["se_gate_means", "se_gates_figure"]


def se_gate_means(
    model: nn.Module, dataset: ImageDataset, *, batch_size: int = 1000
) -> dict[str, torch.Tensor]:
    """Return the mean gate per class and channel of every SE block of ``model``.

    Args:
        model: A model with :class:`~tinyconv.SqueezeExcite` blocks.
        dataset: Labelled images (normalised as the model was trained).
        batch_size: Images per forward pass.

    Returns:
        ``{block name: tensor [classes, channels]}``, in model order; a class without
        images has ``nan`` gates.

    Raises:
        ValueError: If the model has no SqueezeExcite block.
        DatasetMismatchError: If the model was made for other images.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, SESpec, build
        >>> net = build([ConvSpec(out_channels=4), SESpec(rd_channels=2),
        ...              GAPHeadSpec(num_classes=2)], seed=0)
        >>> toy = ImageDataset(torch.zeros(4, 1, 28, 28, dtype=torch.uint8),
        ...     torch.tensor([0, 1, 1, 0]), "toy", ("a", "b"), 0.5, 0.25)
        >>> {name: tuple(g.shape) for name, g in se_gate_means(net, toy).items()}
        {'se1': (2, 4)}
    """
    blocks = {name: m for name, m in model.named_modules() if isinstance(m, SqueezeExcite)}
    if not blocks:
        raise ValueError(
            f"{type(model).__name__} has no SqueezeExcite block, so there are no gates to show"
        )
    check_model_fits(model, dataset)
    classes = len(dataset.class_names)
    sums = {
        name: torch.zeros(classes, m.in_channels, dtype=torch.float64) for name, m in blocks.items()
    }
    counts = torch.bincount(dataset.labels, minlength=classes).double()
    current: dict[str, torch.Tensor] = {}

    def recorder(name: str) -> Callable[..., None]:
        def hook(module: SqueezeExcite, inputs: tuple[torch.Tensor, ...], _: object) -> None:
            sums[name].index_add_(0, current["labels"], module.gates(inputs[0]).double())

        return hook

    handles = [block.register_forward_hook(recorder(name)) for name, block in blocks.items()]
    try:
        with torch.no_grad(), eval_mode(model):
            for x, y in normalized_batches(model, dataset, batch_size):
                current["labels"] = y
                model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {name: (total / counts[:, None]).float() for name, total in sums.items()}


def se_gates_figure(
    gates: dict[str, torch.Tensor],
    class_names: tuple[str, ...] | list[str],
    *,
    model_name: str = "model",
    dataset: str = "test",
) -> Figure:
    """Draw each SE block's mean gate per class and channel, and its spread over classes.

    Args:
        gates: From :func:`se_gate_means`.
        class_names: Names of the classes (rows), in label order.
        model_name: What was measured, for the title.
        dataset: Which images, for the title.

    Returns:
        The figure: per block a heatmap (image gid ``gates:<block>``, values in (0, 1))
        and a bar chart of max - min over classes per channel (gid ``spread:<block>``).

    Raises:
        ValueError: If ``gates`` is empty or its rows do not match ``class_names``.

    Example:
        >>> fig = se_gates_figure({"se1": torch.tensor([[0.2, 0.9], [0.4, 0.8]])}, ["a", "b"])
        >>> fig.axes[0].images[0].get_gid()
        'gates:se1'
    """
    if not gates:
        raise ValueError("no gates to draw: the model has no SqueezeExcite block")
    for name, values in gates.items():
        if values.shape[0] != len(class_names):
            raise ValueError(
                f"{name} has gates for {values.shape[0]} classes but {len(class_names)} "
                "class names were given"
            )
    names = list(class_names)
    widest = max(values.shape[1] for values in gates.values())
    with style():
        fig = new_figure(max(7.0, 2.2 + 0.42 * widest), 0.5 + 5.2 * len(gates))
        grid = fig.add_gridspec(2 * len(gates), 1, height_ratios=[3, 1] * len(gates))
        image = None
        for block, (name, values) in enumerate(gates.items()):
            data = values.numpy()
            heat_ax = fig.add_subplot(grid[2 * block])
            image = heat_ax.imshow(
                data, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1, aspect="auto", interpolation="nearest"
            )
            image.set_gid(f"gates:{name}")
            heat_ax.set_yticks(range(len(names)), names)
            heat_ax.set_xticks(range(data.shape[1]))
            heat_ax.set_xlabel(f"channel of {name}")
            heat_ax.set_ylabel("true class")
            heat_ax.set_title(f"{name}: mean gate per channel and class")
            heat_ax.grid(False)
            fig.colorbar(image, ax=heat_ax, label="mean gate (0 = off, 1 = open)", pad=0.02)
            spread_ax = fig.add_subplot(grid[2 * block + 1])
            spread = np.nanmax(data, axis=0) - np.nanmin(data, axis=0)
            bars = spread_ax.bar(range(data.shape[1]), spread, color="#3b528b", width=0.7)
            for patch in bars.patches:
                patch.set_gid(f"spread:{name}")
            spread_ax.set_xlim(-0.5, data.shape[1] - 0.5)
            spread_ax.set_xticks(range(data.shape[1]))
            spread_ax.set_ylim(0, max(0.05, float(spread.max()) * 1.15))
            spread_ax.set_xlabel(f"channel of {name}")
            spread_ax.set_ylabel("max - min\nover classes")
        fig.suptitle(f"Squeeze-and-excitation gates of {model_name} on {dataset} images")
    return fig
