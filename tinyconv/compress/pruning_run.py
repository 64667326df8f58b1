"""``prune_model_file``: the pruning run behind ``tinyconv prune``, from model file to report.

The steps: read the model file and the recipe to fine-tune with (the model's own, by name
from its metadata, unless one is given); carve a stratified validation split from the
dataset's training images (never the test images: nothing here reads them); score the
model on it; prune to the budget (:func:`~tinyconv.compress.prune_to_budget`) and score the
pruned model; fine-tune it on the rest of the training images with the recipe's training
configuration and augmentation for ``epochs`` epochs through :func:`tinyconv.train.fit`,
scoring validation after every epoch and checkpointing every epoch into the output folder;
then write the model file and a JSON report, each atomically.

An interrupted run continues where it stopped when the same command is run again: pruning
is deterministic, so the same channels go, and the fine-tuning resumes from its checkpoint,
which is removed once the model file and report are written. A finished output folder is
never overwritten.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyconv.atomic import atomic_write
from tinyconv.compress.errors import PruneError
from tinyconv.compress.prune import prune_to_budget
from tinyconv.data import Normalization, TensorLoader, dataset_info, load_dataset
from tinyconv.data.split import ValidationSplit
from tinyconv.errors import SpecError
from tinyconv.experiment import fine_tune
from tinyconv.model_file import load, save
from tinyconv.outputs import check_writable_folder
from tinyconv.train import evaluate, resolve_device

if TYPE_CHECKING:
    from tinyconv.recipe import Recipe

__all__ = ["MODEL_FILE", "REPORT_FILE", "PruneReport", "prune_model_file"]

MODEL_FILE = "model.pt"
"""Name of the pruned (and fine-tuned) model file in the output folder."""
REPORT_FILE = "report.json"
"""Name of the JSON report in the output folder."""
CHECKPOINT_FILE = "finetune.ckpt.pt"
"""Name of the fine-tuning checkpoint, present only while a run is unfinished."""


@dataclass(frozen=True)
class PruneReport:
    """What a pruning run did and measured (validation only; no test image is read).

    Attributes:
        source: The pruned model file.
        recipe: Name of the recipe whose training configuration fine-tuned it.
        dataset: The dataset.
        max_params: The budget.
        pruning: :meth:`~tinyconv.compress.PruneResult.to_dict` output (parameters and
            widths before and after, steps, criterion).
        epochs: Fine-tuning epochs (``0``: pruned only).
        seed: Seed of the fine-tuning (shuffle, augmentation, dropout).
        train_images: Images fine-tuned on.
        val_images: Validation images, carved from the training set.
        split_seed: Seed of the validation split.
        val_acc_source: Validation accuracy of the model before pruning.
        val_acc_pruned: Validation accuracy right after pruning.
        val_acc_finetuned: Validation accuracy after the last fine-tuning epoch (``None``
            when ``epochs`` is 0).
        history: Per-epoch records of the fine-tuning.
        files: Output file names (``model``, ``report``).
    """

    source: str
    recipe: str
    dataset: str
    max_params: int
    pruning: dict[str, Any]
    epochs: int
    seed: int
    train_images: int
    val_images: int
    split_seed: int
    val_acc_source: float
    val_acc_pruned: float
    val_acc_finetuned: float | None
    history: list[dict[str, Any]]
    files: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        pruning = self.pruning
        before = ", ".join(f"{k} {v}" for k, v in pruning["widths_before"].items())
        after = ", ".join(f"{k} {v}" for k, v in pruning["widths_after"].items())
        tuned = (
            "not fine-tuned (--epochs 0)"
            if self.val_acc_finetuned is None
            else f"{100 * self.val_acc_finetuned:.2f} % after {self.epochs} fine-tuning epoch(s)"
        )
        ratio = pruning.get("max_pruning_ratio", 1.0)
        cap = "" if ratio == 1 else f", at most {ratio:.0%} of any layer's channels"
        return (
            f"Pruned {self.source}: {pruning['params_before']:,} -> "
            f"{pruning['params_after']:,} parameters (budget {self.max_params:,}, "
            f"{pruning['steps']} channels removed{cap})\n"
            f"  widths before: {before}\n"
            f"  widths after:  {after}\n"
            f"  validation accuracy ({self.val_images:,} images carved from the training set, "
            f"split seed {self.split_seed}): source {100 * self.val_acc_source:.2f} %, "
            f"pruned {100 * self.val_acc_pruned:.2f} %, {tuned}"
        )


def _recipe_for(model: Any, recipe: str | Recipe | None, source: Path) -> Recipe:
    from tinyconv.recipes import recipe_of_model  # a ready recipe imports its dataset's pipeline

    try:
        return recipe_of_model(model, recipe, label=repr(str(source)))
    except (SpecError, FileNotFoundError) as error:
        raise PruneError(str(error)) from None


def _check_normalization(model: Any, dataset: str, source: Path) -> None:
    expected = dataset_info(dataset).normalization.to_dict()
    recorded = Normalization.of_model(model)
    if recorded is not None and recorded.to_dict() != expected:
        raise PruneError(
            f"{str(source)!r} was trained on inputs normalised with {recorded.to_dict()}, "
            f"but the {dataset!r} pipeline normalises with {expected}; fine-tuning would feed "
            "it other inputs than it learned on"
        )


def prune_model_file(
    model_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    max_params: int,
    max_pruning_ratio: float = 1.0,
    epochs: int | None = None,
    recipe: str | Recipe | None = None,
    data_root: str | os.PathLike[str] | None = None,
    dataset: str | None = None,
    val_size: int | None = None,
    split_seed: int = 0,
    seed: int = 0,
    train_subset: int | None = None,
    device: str = "auto",
    progress: bool | None = None,
) -> PruneReport:
    """Prune a model file to ``max_params``, fine-tune it, and write the model and a report.

    Args:
        model_path: A model file written by :func:`tinyconv.save` (a trained TinyNet).
        out_dir: Output folder (created if missing); receives ``model.pt`` and
            ``report.json``, and while fine-tuning runs a checkpoint.
        max_params: The parameter budget.
        max_pruning_ratio: The largest fraction of each layer's channels that may go
            (:func:`~tinyconv.compress.prune_to_budget`).
        epochs: Fine-tuning epochs; ``None`` takes the recipe's, ``0`` prunes only. The
            schedule follows a changed epoch count (:meth:`tinyconv.Recipe.with_epochs`).
        recipe: A ready recipe's name, a recipe JSON path, a study's results file or a
            recipe whose training configuration and augmentation fine-tune the model (its
            specs are not used; it is moved onto the model's dataset); ``None`` takes the
            one the model file records (:func:`~tinyconv.recipes.recipe_of_model`).
        data_root: Dataset root (default ``$TINYCONV_DATA``).
        dataset: The registered dataset to fine-tune on, for a model file that records
            none (one that records another is refused).
        val_size: Validation images carved (stratified) from the training set (``None``:
            :func:`~tinyconv.data.split.default_val_size`, 5,000 or a tenth of fewer;
            :class:`~tinyconv.data.split.ValidationSplit`).
        split_seed: Seed of that split.
        seed: Seed of the fine-tuning.
        train_subset: Fine-tune on the first N of the remaining training images only.
        device: ``"auto"`` or a device string.
        progress: As :attr:`tinyconv.train.TrainConfig.progress`.

    Returns:
        The report (also written to ``out_dir/report.json``).

    Raises:
        PruneError: For a finished output folder, an unreachable budget, a recipe of another
            dataset, a model without a recorded recipe when none is given, a model
            normalised otherwise than its dataset's pipeline, or bad epochs.
        ModelFileError: If the model file cannot be read.
        SplitError: If ``val_size`` or ``train_subset`` do not fit the training images.
        DatasetNotFoundError: If the dataset is not under ``data_root``.
        MissingExtraError: If Torch-Pruning is not installed.
    """
    source, out = Path(model_path), check_writable_folder(out_dir)
    model_file, report_file = out / MODEL_FILE, out / REPORT_FILE
    for existing in (model_file, report_file):
        if existing.exists():
            raise PruneError(
                f"{str(existing)!r} exists: this output folder holds a finished run; choose "
                "another --out or remove that folder"
            )
    if epochs is not None and (isinstance(epochs, bool) or epochs < 0):
        raise PruneError(f"epochs must be >= 0, got {epochs!r}")
    split = ValidationSplit(val_size, split_seed, train_subset)
    split.check()  # before the model and the data are read
    model = load(source)
    if dataset is not None:
        if model.dataset is not None and model.dataset != dataset:
            raise PruneError(
                f"{str(source)!r} was trained on {model.dataset!r}, not {dataset!r}; drop "
                "--dataset (the model file's own is used)"
            )
        model.dataset = dataset
    chosen = _recipe_for(model, recipe, source)
    dataset = model.dataset or chosen.dataset
    _check_normalization(model, dataset, source)
    epochs = chosen.train.epochs if epochs is None else epochs
    full = load_dataset(dataset, data_root, train=True)  # type: ignore[arg-type]
    train_set, val_set = split.carve(full)
    target = resolve_device(device)
    val_loader = TensorLoader(val_set, chosen.eval_batch_size, device=target)
    val_source = evaluate(model.to(target), val_loader).accuracy

    result = prune_to_budget(model.cpu(), max_params, max_pruning_ratio=max_pruning_ratio)
    pruned = result.model
    val_pruned = evaluate(pruned.to(target), val_loader).accuracy
    history: list[dict[str, Any]] = []
    if epochs > 0:
        scaled = chosen.with_epochs(epochs)
        config = dataclasses.replace(scaled.train, seed=seed, device=device, progress=progress)
        out.mkdir(parents=True, exist_ok=True)
        records = fine_tune(
            pruned, train_set, val_set, config, augment=scaled.augmentation(),
            eval_batch_size=chosen.eval_batch_size, checkpoint_path=out / CHECKPOINT_FILE,
        )  # fmt: skip
        history = records.to_list()
    pruned = pruned.cpu().eval()
    val_tuned = history[-1]["eval_acc"] if history else None
    pruned.metadata = {
        "recipe": chosen.name,
        "seed": seed,
        "pruned_from": str(source),
        "max_params": max_params,
        "fine_tune_epochs": epochs,
        "val_acc": val_pruned if val_tuned is None else val_tuned,
    }
    report = PruneReport(
        source=str(source),
        recipe=chosen.name,
        dataset=dataset,
        max_params=max_params,
        pruning=result.to_dict(),
        epochs=epochs,
        seed=seed,
        train_images=len(train_set),
        val_images=len(val_set),
        split_seed=split_seed,
        val_acc_source=val_source,
        val_acc_pruned=val_pruned,
        val_acc_finetuned=val_tuned,
        history=history,
        files={"model": MODEL_FILE, "report": REPORT_FILE},
    )
    out.mkdir(parents=True, exist_ok=True)
    save(pruned, model_file)
    text = json.dumps(report.to_dict(), indent=1) + "\n"
    atomic_write(report_file, lambda handle: handle.write(text.encode()))
    (out / CHECKPOINT_FILE).unlink(missing_ok=True)
    return report
