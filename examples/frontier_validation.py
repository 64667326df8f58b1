"""Score candidate recipes on a validation split carved from the training set (never on test).

Each recipe trains, for each seed, on 55,000 of the 60,000 training images and is scored
after its final epoch on the other 5,000 (stratified, split seed 0: the split the search
uses). The test set is never loaded. One record per (recipe, seed) goes into ``--out``
(default ``results/frontier/validation.json``), written atomically after each run; a
finished pair is skipped and an interrupted run continues from its last epoch's checkpoint
(under ``--checkpoints``), so the script can be run again to continue.

This is how the frontier's candidates are chosen (see "The frontier" in the docs); only the
chosen recipe of each budget is then trained for five seeds with ``tinyconv study`` and
scored on test.

Usage::

    python examples/frontier_validation.py mnist_v5_onecycle mnist_wide_onecycle --seeds 1
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch

import tinyconv as tc
from tinyconv.atomic import atomic_write
from tinyconv.data import ImageDataset, load_dataset
from tinyconv.data.split import ValidationSplit
from tinyconv.recipe import Recipe
from tinyconv.recipes import get_recipe

VAL_SIZE, SPLIT_SEED = 5000, 0


def load_records(path: Path) -> dict[str, dict[str, object]]:
    """The records already in ``path``, by ``"<recipe>/seed<s>"`` (none if it is absent)."""
    return json.loads(path.read_text())["runs"] if path.is_file() else {}


def save_records(path: Path, records: dict[str, dict[str, object]]) -> None:
    """Write every record to ``path`` at once."""
    document = {
        "protocol": (
            f"trained on the training set less {VAL_SIZE} images (stratified, split seed "
            f"{SPLIT_SEED}); scored on those {VAL_SIZE} after the final epoch; test not loaded"
        ),
        "runs": dict(sorted(records.items())),
    }
    text = json.dumps(document, indent=1) + "\n"
    atomic_write(path, lambda file: file.write(text.encode()))


def split(dataset: str) -> tuple[ImageDataset, ImageDataset]:
    """The training set of ``dataset`` as (training part, validation part)."""
    full = load_dataset(dataset, train=True)  # type: ignore[arg-type]
    return ValidationSplit(VAL_SIZE, SPLIT_SEED).carve(full)


def validate(
    recipe: Recipe, seed: int, data: tuple[ImageDataset, ImageDataset], checkpoints: Path
) -> dict[str, object]:
    """Train ``recipe`` for ``seed`` on the split's training part; its validation record."""
    train_set, val_set = data
    checkpoints.mkdir(parents=True, exist_ok=True)
    (run,) = tc.train_recipe(
        recipe,
        [seed],
        train_set,
        val_set,
        eval_name="val",
        progress="lines",
        checkpoint_path=checkpoints / f"{recipe.name}_e{recipe.train.epochs}_seed{seed}.ckpt",
        label=f"{recipe.name} seed {seed}",
    )
    history = run.history
    best = history.best("val_acc")
    return {
        "recipe": recipe.name,
        "dataset": recipe.dataset,
        "seed": seed,
        "params": tc.count_parameters(run.model),
        "epochs": len(history),
        "final_val_acc": history.final.eval_acc,
        "best_val_acc (extra)": best.eval_acc,
        "best_epoch (extra)": best.epoch,
        "train_samples": len(train_set),
        "val_samples": len(val_set),
        "wall_seconds": round(sum(record.seconds for record in history), 1),
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "history": history.to_list(),
    }


def main() -> None:
    """Validate each recipe for each seed not yet recorded."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("recipes", nargs="+", help="ready recipe names or recipe JSON files")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 (default: 1)")
    parser.add_argument("--epochs", type=int, default=None, help="instead of the recipe's")
    parser.add_argument("--out", type=Path, default=Path("results/frontier/validation.json"))
    parser.add_argument("--checkpoints", type=Path, default=Path("runs/frontier_validation"))
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    splits: dict[str, tuple[ImageDataset, ImageDataset]] = {}
    for name in args.recipes:
        recipe = get_recipe(name).with_epochs(args.epochs)
        for seed in range(args.seeds):
            key = f"{recipe.name}_e{recipe.train.epochs}/seed{seed}"
            if key in load_records(args.out):
                print(f"{key}: already recorded, skipped")
                continue
            if recipe.dataset not in splits:
                splits[recipe.dataset] = split(recipe.dataset)
            record = validate(recipe, seed, splits[recipe.dataset], args.checkpoints)
            records = load_records(args.out)  # another process may have added its own
            records[key] = record
            save_records(args.out, records)
            print(f"{key}: final validation accuracy {record['final_val_acc']:.2%}")


if __name__ == "__main__":
    main()
