"""``fit_stacked``: train K seeds of one recipe as one stacked network, one pass per step.

The K models are stacked (:func:`~tinyconv.train.stack_models`: grouped convolutions,
BatchNorm over ``K * C`` channels, per-seed dropout streams), each seed is fed its own batch
from its own loader (stacked along channels), and the loss is the *sum* of the K per-seed
cross-entropies, so the gradient of each seed's weights is exactly that of its own loss.
The optimizer acts element-wise, so SGD (momentum, Nesterov, weight decay), Adam, AdamW,
StepLR and OneCycle update each seed as its own run would; gradient clipping is applied
per seed. Each seed's dropout masks come from a stream seeded with that seed, as in a
separate :func:`~tinyconv.train.fit` run, so a stacked run matches K separate runs to float
noise (grouped convolutions sum in another order).

The loop is the training engine's (:func:`~tinyconv.train.engine.run_training`) with a
:class:`~tinyconv.train.steps.StackedSeedsStep`: a stacked run checkpoints after every epoch
(the stacked weights, every seed's history and dropout stream) and resumes exactly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

from torch import Tensor

from tinyconv.model import TinyNet
from tinyconv.train.config import TrainConfig
from tinyconv.train.engine import run_training
from tinyconv.train.hash_dropout import use_dropout_masks
from tinyconv.train.history import History
from tinyconv.train.steps import BatchLoader, StackedSeedsStep


def fit_stacked(
    models: Sequence[TinyNet],
    loaders: Sequence[BatchLoader],
    config: TrainConfig,
    *,
    eval_loader: Iterable[tuple[Tensor, Tensor]] | None = None,
    eval_name: str = "val",
    seeds: Sequence[int] | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    label: str = "",
) -> list[History]:
    """Train K models of the same specs at once, each on its own loader, as one network.

    Args:
        models: K TinyNets built from the same specs; trained in place (their weights and
            BatchNorm statistics are overwritten with the trained ones at the end).
        loaders: One training loader per model (own shuffle and augmentation seed), all of
            the same length and batch sizes; ``set_epoch`` is called before each epoch.
        config: The settings shared by every seed (its ``seed`` is not used for dropout).
        eval_loader: Scored by every seed after every epoch, if given.
        eval_name: Name of the evaluated set; prefixes its metrics.
        seeds: Each model's seed, for its dropout stream (as ``config.seed`` in a
            separate :func:`~tinyconv.train.fit` run); default ``config.seed + k``.
        checkpoint_path: Written atomically after every epoch, if given.
        resume: Continue from ``checkpoint_path`` if that file exists.
        overwrite: Start a new run even though ``checkpoint_path`` exists.
        label: Prefix of the progress display.

    Returns:
        One :class:`~tinyconv.train.History` per model. ``seconds`` is the wall time of the
        whole stacked epoch and ``images_per_sec`` counts each seed's own images, so both
        are per seed of a run that trained K seeds in that time.

    Raises:
        ValueError: If the models, loaders and seeds differ in number, a loader's length or
            batch size does not match, the models cannot be stacked, or a checkpoint holds
            other seeds.
        CheckpointExistsError: If ``checkpoint_path`` exists and neither ``resume`` nor
            ``overwrite`` is set.
        NonFiniteLossError: If a seed's training loss is NaN or infinite (the message names
            the seed); nothing is written back into the models then.

    Example:
        >>> import torch
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> specs = [ConvSpec(out_channels=2, stride=4), GAPHeadSpec(num_classes=2)]
        >>> models = [build(specs, input_size=(8, 8), seed=s) for s in (0, 1)]
        >>> batch = (torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 0, 1]))
        >>> config = TrainConfig(epochs=2, batch_size=4, device="cpu", progress=False)
        >>> histories = fit_stacked(models, [[batch], [batch]], config, seeds=[0, 1])
        >>> [len(history) for history in histories]
        [2, 2]
    """
    seeds = tuple(range(config.seed, config.seed + len(models))) if seeds is None else seeds
    with use_dropout_masks(list(models), config.dropout_masks):
        return run_training(
            StackedSeedsStep(models, loaders, seeds),
            config,
            eval_loader=eval_loader,
            eval_name=eval_name,
            checkpoint_path=checkpoint_path,
            resume=resume,
            overwrite=overwrite,
            label=label,
        )
