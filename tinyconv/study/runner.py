"""Multi-seed studies that survive interruption: one JSON file per recipe.

:func:`run_study` trains a recipe for each requested seed and rewrites
``<out>/<recipe name>.json`` atomically as soon as a seed finishes, skipping
seeds already in the file, so a study can be spread over several sittings. While
a seed trains it is checkpointed after every epoch to
``<out>/<recipe name>/seed<N>.ckpt``; a killed seed continues from its last
finished epoch and ends exactly as an unbroken run would. Each finished seed's
model is saved beside its results as ``<out>/<recipe name>/seed<N>.model.pt``
(see :func:`tinyconv.load`), and its history as ``seed<N>.csv``.
``stack=K`` trains new seeds K at a time as one stacked network (a group keeps no
per-epoch checkpoint: if interrupted, it restarts from epoch 1); ``workers=N`` trains
seeds in N processes, each with its checkpoints as above.
:func:`aggregate` reduces a results file to the figures a reviewer trusts:
the final-epoch test accuracy as mean, standard deviation and minimum over
seeds, with the best epoch only as a labelled extra.
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tinyconv.atomic import atomic_write
from tinyconv.data import ImageDataset, dataset_info
from tinyconv.errors import ResultsMismatchError, TinyconvError
from tinyconv.model_file import save
from tinyconv.study.recipe import Recipe, run_seed
from tinyconv.train import History
from tinyconv.train.config import EXECUTION_FIELDS

TARGET_ACCURACY = 0.994
"""The MNIST exercise's bar, 99.4 % test accuracy (each dataset's own bar is its
:attr:`~tinyconv.data.DatasetStats.target_accuracy`)."""


def results_path(out_dir: str | os.PathLike[str], recipe: Recipe) -> Path:
    """Return where the results of ``recipe`` are kept.

    Args:
        out_dir: Folder of the results files.
        recipe: The recipe.

    Returns:
        ``<out_dir>/<recipe.name>.json``.

    Example:
        >>> from tinyconv import GAPHeadSpec
        >>> from tinyconv.train import TrainConfig
        >>> recipe = Recipe(name="v9", specs=(GAPHeadSpec(),), train=TrainConfig())
        >>> results_path("results", recipe).as_posix()
        'results/v9.json'
    """
    return Path(out_dir) / f"{recipe.name}.json"


def seed_paths(out_dir: str | os.PathLike[str], recipe: Recipe, seed: int) -> dict[str, Path]:
    """Return where one seed's checkpoint, model file and history CSV are kept.

    Args:
        out_dir: Folder of the results files.
        recipe: The recipe.
        seed: The seed.

    Returns:
        ``checkpoint``, ``model`` and ``csv`` paths under ``<out_dir>/<recipe.name>/``.

    Example:
        >>> from tinyconv import GAPHeadSpec
        >>> from tinyconv.train import TrainConfig
        >>> recipe = Recipe(name="v9", specs=(GAPHeadSpec(),), train=TrainConfig())
        >>> seed_paths("results", recipe, 2)["model"].as_posix()
        'results/v9/seed2.model.pt'
    """
    folder = Path(out_dir) / recipe.name
    return {
        "checkpoint": folder / f"seed{seed}.ckpt",
        "model": folder / f"seed{seed}.model.pt",
        "csv": folder / f"seed{seed}.csv",
    }


def write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as JSON to ``path`` all at once (see :func:`~tinyconv.train.atomic_write`).

    Args:
        path: Destination file; its folder is created if needed.
        data: JSON-able data.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1)
    atomic_write(path, lambda handle: handle.write(text.encode()))


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results file written by :func:`run_study`.

    Args:
        path: The ``<recipe>.json`` file.

    Returns:
        Its content: the recipe, the epoch count and a ``seeds`` table of per-seed results.

    Raises:
        FileNotFoundError: If the file does not exist.
        ResultsMismatchError: If the file is not valid JSON or lacks the ``seeds`` table.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no results file at {str(path)!r}; check the path")
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ResultsMismatchError(
            f"{path} is not valid JSON ({error}); delete it to start over"
        ) from error
    if not isinstance(data, dict) or not isinstance(data.get("seeds"), dict):
        raise ResultsMismatchError(f"{path} is not a tinyconv results file (no 'seeds' table)")
    return data


def run_study(
    recipe: Recipe,
    seeds: Iterable[int],
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    out_dir: str | os.PathLike[str] = "results",
    device: str = "auto",
    progress: bool | None = None,
    on_event: Callable[[str], None] | None = None,
    on_seed: Callable[[dict[str, Any]], None] | None = None,
    stack: int = 1,
    workers: int = 1,
) -> dict[str, Any]:
    """Train ``recipe`` once per seed, checkpointing every epoch and saving each finished seed.

    Seeds already present in the results file are skipped; a seed with a checkpoint
    continues from it. A results file made with a different recipe (including its
    epoch count) or on other data is refused rather than mixed.

    Args:
        recipe: What to train; ``recipe.train.epochs`` is the number of epochs, and the
            results file records the recipe exactly as it ran.
        seeds: Seeds to run.
        train_set: Training images.
        test_set: Images scored after every epoch, for the record.
        out_dir: Folder of the results file.
        device: ``"auto"`` or a device string.
        progress: As :attr:`tinyconv.train.TrainConfig.progress`.
        on_event: Called with a line for each seed skipped, resumed or started.
        on_seed: Called with each newly finished seed's result.
        stack: Train new seeds this many at a time as one stacked network
            (:func:`tinyconv.train.fit_stacked`; same results to float noise). A stacked
            group keeps no per-epoch checkpoint: if interrupted, it restarts from epoch 1.
            Seeds that already have a checkpoint are resumed one by one as usual.
        workers: Train seeds in this many worker processes, torch threads divided
            between them (per-epoch checkpoints and resume as usual); not with ``stack``.

    Returns:
        The whole results file content.

    Raises:
        ResultsMismatchError: If the existing results file belongs to another setting
            or holds runs on a different number of training or test images.
        ValueError: If ``stack`` or ``workers`` is below 1, or both are above 1.
    """
    if stack < 1 or workers < 1 or (stack > 1 and workers > 1):
        raise ValueError(f"need stack >= 1 and workers >= 1, not both > 1; got {stack}, {workers}")
    say = on_event or (lambda line: None)
    path = results_path(out_dir, recipe)
    setting = {"recipe": recipe.to_dict(), "epochs": recipe.train.epochs}
    data = load_results(path) if path.exists() else {**setting, "seeds": {}}
    mismatched = [key for key in ("epochs",) if data.get(key) != setting[key]]
    if _comparable_recipe(data.get("recipe")) != _comparable_recipe(setting["recipe"]):
        mismatched.insert(0, "recipe")
    if mismatched:
        raise ResultsMismatchError(
            f"{path} holds results of a different setting ({', '.join(mismatched)} differ); "
            "use another --out folder or delete the file to start over"
        )
    sizes = {"train_samples": len(train_set), "test_samples": len(test_set)}
    for key, size in sizes.items():
        recorded = {run[key] for run in data["seeds"].values() if key in run}
        if recorded - {size}:
            raise ResultsMismatchError(
                f"{path} holds runs with {key}={sorted(recorded)}, but this study has {size}; "
                "use another --out folder (or recipe name) for runs on other data"
            )

    def finish(result: dict[str, Any], model: Any) -> None:
        paths = seed_paths(out_dir, recipe, result["seed"])
        save(model, paths["model"], overwrite=True)
        History.from_list(result["history"]).to_csv(paths["csv"])
        data["seeds"][str(result["seed"])] = result
        write_json_atomic(path, data)
        paths["checkpoint"].unlink(missing_ok=True)  # the model file and results hold the seed
        if on_seed is not None:
            on_seed(result)

    seeds = list(seeds)
    many: list[int] = []
    if stack > 1 or workers > 1:
        from tinyconv.study.parallel import parallel_runs, stacked_runs

        def checkpoint(seed: int) -> Path:
            return seed_paths(out_dir, recipe, seed)["checkpoint"]

        many = [
            seed
            for seed in dict.fromkeys(seeds)
            if str(seed) not in data["seeds"] and (workers > 1 or not checkpoint(seed).exists())
        ]
        (Path(out_dir) / recipe.name).mkdir(parents=True, exist_ok=True)
        common = {"checkpoints": checkpoint, "device": device, "say": say}
        runs = (
            stacked_runs(
                recipe, many, train_set, test_set, stack=stack, progress=progress, **common
            )
            if stack > 1
            else parallel_runs(recipe, many, train_set, test_set, workers=workers, **common)
        )
        for result, model in runs:
            finish(result, model)
    for seed in seeds:
        if seed in many:
            continue
        if str(seed) in data["seeds"]:
            say(f"seed {seed}: already finished, skipped")
            continue
        paths = seed_paths(out_dir, recipe, seed)
        paths["checkpoint"].parent.mkdir(parents=True, exist_ok=True)
        if paths["checkpoint"].exists():
            from tinyconv.train import load_checkpoint

            say(f"seed {seed}: resuming after epoch {load_checkpoint(paths['checkpoint']).epoch}")
        else:
            say(f"seed {seed}: training {recipe.train.epochs} epochs")
        result, model = run_seed(
            recipe,
            seed,
            train_set,
            test_set,
            device=device,
            progress=progress,
            checkpoint_path=paths["checkpoint"],
        )
        finish(result, model)
    return data


def _comparable_recipe(recorded: Any) -> Any:
    """A recipe dict as this tinyconv writes it, without the fields of how it executes.

    A results file written before a field existed (say ``train.compile_mode``) holds the
    same recipe as today's dict with that field at its default, and seeds trained on
    another device or compiled belong to the same study: comparing these forms lets such a
    study go on. What cannot be read stays as it is, and so differs.
    """
    try:
        data = Recipe.from_dict(recorded).to_dict()
    except (TinyconvError, ValueError, TypeError):
        return recorded
    data["train"] = {k: v for k, v in data["train"].items() if k not in EXECUTION_FIELDS}
    return data


def aggregate(data: dict[str, Any], target: float | None = None) -> dict[str, Any]:
    """Reduce a results file to per-recipe figures over its seeds.

    Args:
        data: Content of a results file.
        target: Accuracy threshold whose hit rate is reported; ``None`` takes the target
            of the recipe's dataset (99.4 % for MNIST).

    Returns:
        ``seeds`` (count), ``target``, ``params``, ``final_mean``, ``final_std`` (sample
        standard deviation; 0 for one seed), ``final_min``, ``hit_rate`` (fraction of
        seeds whose final-epoch accuracy is >= ``target``; ``hits`` is their
        count), ``best_mean`` (best epoch,
        for information only), ``train_final_mean``, ``wall_mean`` (seconds),
        and ``devices``.

    Raises:
        ValueError: If the file holds no seeds.

    Example:
        >>> data = {"seeds": {str(s): {"final_test_acc": a, "best_test_acc": a,
        ...     "final_train_acc": 0.99, "wall_seconds": 10.0, "params": 5000,
        ...     "device_name": "cpu"} for s, a in enumerate([0.993, 0.995])}}
        >>> row = aggregate(data)
        >>> round(row["final_mean"], 4), row["final_min"], row["hit_rate"]
        (0.994, 0.993, 0.5)
    """
    runs = list(data["seeds"].values())
    if not runs:
        raise ResultsMismatchError("no finished seeds in this results file yet; run a study first")
    if target is None:
        dataset = (data.get("recipe") or {}).get("dataset", "mnist")
        target = dataset_info(dataset).target_accuracy
    finals = [run["final_test_acc"] for run in runs]
    return {
        "seeds": len(runs),
        "target": target,
        "params": runs[0]["params"],
        "final_mean": statistics.fmean(finals),
        "final_std": statistics.stdev(finals) if len(finals) > 1 else 0.0,
        "final_min": min(finals),
        "hits": sum(acc >= target for acc in finals),
        "hit_rate": sum(acc >= target for acc in finals) / len(finals),
        "best_mean": statistics.fmean(run["best_test_acc"] for run in runs),
        "train_final_mean": statistics.fmean(run["final_train_acc"] for run in runs),
        "wall_mean": statistics.fmean(run["wall_seconds"] for run in runs),
        "devices": sorted({run["device_name"] for run in runs}),
    }
