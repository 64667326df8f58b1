"""Turn a recipe and the options of a run into what :func:`~tinyconv.study.run_study` trains.

:func:`prepare_study` applies an epoch override (through
:meth:`~tinyconv.recipe.Recipe.with_epochs`, which rescales the schedule), a compile mode
(how the seeds run, not what they compute: the same study), and a training subset (kept
apart from full-data results as ``<name>_train<N>``), and loads the recipe's data. The
``tinyconv study`` command and the example scripts call it, so the two cannot differ.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from tinyconv.data import ImageDataset, load_dataset
from tinyconv.errors import UsageError
from tinyconv.recipe import Recipe


@dataclass(frozen=True)
class PreparedStudy:
    """A recipe ready to train, with its data.

    Attributes:
        recipe: The recipe as it will run (epochs, compile mode, name for a subset).
        train_set: The training images (a subset's first N if asked).
        test_set: The test images, scored after every epoch for the record only.
    """

    recipe: Recipe
    train_set: ImageDataset
    test_set: ImageDataset


def prepare_study(
    recipe: Recipe,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    train_subset: int | None = None,
    compile_mode: str | None = None,
    dropout_masks: str | None = None,
    capture: bool = False,
) -> PreparedStudy:
    """Apply a run's options to ``recipe`` and load its data.

    Args:
        recipe: The recipe.
        data_dir: The data root (see :func:`tinyconv.data.resolve_data_root`).
        epochs: Train this many epochs instead of the recipe's (schedule rescaled).
        train_subset: Train on the first N training images only (smoke runs).
        compile_mode: Train with ``torch.compile`` in this mode.
        capture: Record each seed's training step as a CUDA graph
            (:attr:`tinyconv.train.TrainConfig.capture`); how the seeds run, not what they
            compute: the same study.
        dropout_masks: Draw dropout masks this way (``"torch"`` or ``"hash"``, see
            :attr:`tinyconv.train.TrainConfig.dropout_masks`); another way is another
            study, kept apart as ``<name>_hash``.

    Returns:
        The recipe as it will run and its data.

    Raises:
        UsageError: For ``epochs`` or ``train_subset`` below 1, or a subset larger than
            the training set.
        DatasetNotFoundError: If the data is not under ``data_dir``.
    """
    for name, value in (("epochs", epochs), ("train_subset", train_subset)):
        if value is not None and (isinstance(value, bool) or value < 1):
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    recipe = recipe.with_epochs(epochs)
    if compile_mode is not None:  # how the seeds run, not what they compute: same study
        train = dataclasses.replace(recipe.train, compile=True, compile_mode=compile_mode)
        recipe = dataclasses.replace(recipe, train=train)
    if capture:  # how the seeds run, not what they compute: same study
        recipe = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, capture=True))
    if dropout_masks is not None and dropout_masks != recipe.train.dropout_masks:
        train = dataclasses.replace(recipe.train, dropout_masks=dropout_masks)
        recipe = dataclasses.replace(recipe, name=f"{recipe.name}_{dropout_masks}", train=train)
    train_set = load_dataset(recipe.dataset, data_dir, train=True)  # type: ignore[arg-type]
    test_set = load_dataset(recipe.dataset, data_dir, train=False)  # type: ignore[arg-type]
    if train_subset is not None:
        if train_subset > len(train_set):
            raise UsageError(
                f"--train-subset {train_subset} is more than the {len(train_set):,} training "
                f"images of {recipe.dataset}; give at most {len(train_set)}"
            )
        train_set = train_set.subset(range(train_subset))
        # Runs on a subset are kept apart from the full-data results.
        recipe = dataclasses.replace(recipe, name=f"{recipe.name}_train{train_subset}")
    return PreparedStudy(recipe, train_set, test_set)
