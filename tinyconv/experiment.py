"""Train a recipe: the one way from a :class:`~tinyconv.recipe.Recipe` to trained models.

:func:`train_recipe` builds the recipe's model for each seed, its training loader (the
seed's own shuffle and augmentation) and the evaluation loader, and trains through the
training engine: one seed as one model (:func:`~tinyconv.train.fit`), several seeds at once
as one stacked network (:func:`~tinyconv.train.fit_stacked`). Both checkpoint every epoch
and resume. A study (:func:`tinyconv.study.run_study`) calls it with the test set, scored
after every epoch for the record only; a search trial (:mod:`tinyconv.search`) with a
validation split carved from the training set. Neither builds a loader or a model itself.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.errors import UsageError
from tinyconv.model import TinyNet
from tinyconv.recipe import Recipe
from tinyconv.train import (
    Callback,
    History,
    TrainConfig,
    fit,
    fit_stacked,
    load_checkpoint,
    resolve_device,
)

__all__ = ["TrainedSeed", "fine_tune", "train_recipe"]


@dataclass(frozen=True)
class TrainedSeed:
    """One seed of a recipe, trained.

    Attributes:
        seed: The seed of its weights, shuffle, augmentation and dropout.
        model: The trained model (on the CPU, in eval mode), knowing its dataset, class
            names and normalisation.
        history: One record per epoch, scored on the evaluation set.
        resumed_after_epoch: The epoch its run continued after (0: trained from scratch).
        stacked_with: The seeds trained together with it as one network (empty alone).
    """

    seed: int
    model: TinyNet
    history: History
    resumed_after_epoch: int = 0
    stacked_with: tuple[int, ...] = ()


def train_recipe(
    recipe: Recipe,
    seeds: Sequence[int],
    train_set: ImageDataset,
    eval_set: ImageDataset,
    *,
    eval_name: str = "test",
    device: str = "auto",
    progress: bool | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    callbacks: Sequence[Callback] = (),
    label: str = "",
) -> list[TrainedSeed]:
    """Train ``recipe`` for each of ``seeds``: alone for one seed, stacked for several.

    With ``checkpoint_path`` the run is checkpointed after every epoch and, if the file
    exists, continued from it: a killed run ends with the same weights and metrics as an
    unbroken one.

    Args:
        recipe: What to train (``recipe.train.epochs`` epochs; see
            :meth:`~tinyconv.recipe.Recipe.with_epochs` to change them).
        seeds: One seed, or several trained at once as one stacked network (each keeps
            its own initial weights, shuffle, augmentation and dropout stream).
        train_set: Training images.
        eval_set: Images scored after every epoch: the test set of a study (for the
            record, never to choose anything) or a validation split.
        eval_name: Name of ``eval_set`` in the metrics (``"test"``, ``"val"``).
        device: ``"auto"`` or a device string.
        progress: As :attr:`tinyconv.train.TrainConfig.progress`.
        checkpoint_path: Where to checkpoint (and resume from), or ``None``.
        callbacks: Events of the training loop (one seed only).
        label: Prefix of the progress display, e.g. ``"seed 2 of 5"``.

    Returns:
        One :class:`TrainedSeed` per seed, in order. A recipe that names a teacher
        (``recipe.distill``) trains with its distillation term
        (:func:`tinyconv.compress.distillation_callback`).

    Raises:
        ValueError: If ``seeds`` is empty, or ``callbacks`` (or a recipe's teacher) come
            with several seeds.
        TeacherError: If the recipe's teacher does not fit its model.
        BudgetExceededError: If the recipe's model is over its budget.

    Example:
        >>> import torch
        >>> from tinyconv import ConvSpec, GAPHeadSpec
        >>> from tinyconv.data import ImageDataset
        >>> from tinyconv.train import TrainConfig
        >>> images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
        >>> data = ImageDataset(images, torch.arange(64) % 10, "toy", tuple("0123456789"), 0.1, 0.3)
        >>> recipe = Recipe(name="tiny", specs=(ConvSpec(out_channels=4, stride=4),
        ...     GAPHeadSpec(num_classes=10)), train=TrainConfig(epochs=1, batch_size=32))
        >>> (run,) = train_recipe(recipe, [0], data, data, device="cpu", progress=False)
        >>> run.seed, len(run.history), run.model.training
        (0, 1, False)
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("train_recipe needs at least one seed")
    models = [recipe.build_model(seed=seed) for seed in seeds]
    config = dataclasses.replace(recipe.train, seed=seeds[0], device=device, progress=progress)
    augment = recipe.augmentation()
    loaders = [_training_loader(train_set, config, seed, augment) for seed in seeds]
    eval_loader = TensorLoader(eval_set, recipe.eval_batch_size, device=resolve_device(device))
    resumed = 0
    if checkpoint_path is not None and Path(checkpoint_path).exists():
        resumed = load_checkpoint(checkpoint_path).epoch
    common = {
        "eval_loader": eval_loader,
        "eval_name": eval_name,
        "checkpoint_path": checkpoint_path,
        "resume": checkpoint_path is not None,
        "label": label,
    }
    if recipe.distill is not None:
        if len(seeds) > 1:
            raise UsageError(
                "a recipe with a teacher trains one seed at a time, not stacked; leave out --stack"
            )
        from tinyconv.compress.distill import distillation_callback

        callbacks = [*callbacks, distillation_callback(recipe.distill, models[0])]
    if len(seeds) == 1:
        histories = [fit(models[0], loaders[0], config, callbacks=callbacks, **common)]
    elif callbacks:
        raise ValueError("callbacks need a single seed; stacked seeds run without them")
    else:
        histories = fit_stacked(models, loaders, config, seeds=seeds, **common)
    together = tuple(seeds) if len(seeds) > 1 else ()
    return [
        TrainedSeed(seed, model.cpu().eval(), history, resumed, together)
        for seed, model, history in zip(seeds, models, histories, strict=True)
    ]


def fine_tune(
    model: nn.Module,
    train_set: ImageDataset,
    val_set: ImageDataset,
    config: TrainConfig,
    *,
    augment: Callable[..., torch.Tensor] | None = None,
    eval_batch_size: int = 1000,
    checkpoint_path: str | os.PathLike[str] | None = None,
    label: str = "",
) -> History:
    """Train an existing model further through the engine, scored on a validation split.

    The one entry of every fine-tuning (a pruned model, quantization-aware int8): the
    same shuffled, augmented loader :func:`train_recipe` gives a seed (``config.seed``
    shuffles and augments), the validation split scored after every epoch as ``"val"``,
    checkpointed every epoch and resumed with ``checkpoint_path``.

    Args:
        model: The model to train further (changed in place, left in training mode).
        train_set: Training images (never test images).
        val_set: The validation split (:class:`~tinyconv.data.split.ValidationSplit`).
        config: Epochs, optimizer, schedule, seed and device of the fine-tuning.
        augment: The training augmentation (a recipe's :meth:`~tinyconv.Recipe.augmentation`),
            or ``None``.
        eval_batch_size: Images per batch when scoring.
        checkpoint_path: Where to checkpoint (and resume from), or ``None``.
        label: Prefix of the progress display.

    Returns:
        One record per epoch.

    Example:
        >>> import torch
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8)
        >>> data = ImageDataset(images, torch.arange(64) % 10, "toy", tuple("0123456789"), 0.1, 0.3)
        >>> model = build([ConvSpec(out_channels=4, stride=4), GAPHeadSpec(num_classes=10)])
        >>> config = TrainConfig(epochs=2, batch_size=32, device="cpu", progress=False)
        >>> [record["eval_name"] for record in fine_tune(model, data, data, config).to_list()]
        ['val', 'val']
    """
    loader = _training_loader(train_set, config, config.seed, augment)
    val_loader = TensorLoader(val_set, eval_batch_size, device=resolve_device(config.device))
    return fit(
        model.train(), loader, config, eval_loader=val_loader, eval_name="val",
        checkpoint_path=checkpoint_path, resume=checkpoint_path is not None, label=label,
    )  # fmt: skip


def _training_loader(
    train_set: ImageDataset,
    config: TrainConfig,
    seed: int,
    augment: Callable[..., torch.Tensor] | None,
) -> TensorLoader:
    """The shuffled, augmented training loader of one seed: its order and augmentation."""
    return TensorLoader(
        train_set, config.batch_size, shuffle=True, seed=seed,
        device=resolve_device(config.device), augment=augment,
    )  # fmt: skip
