"""Multi-seed studies that survive interruption and share a folder safely.

:func:`run_study` trains a recipe for each requested seed; as soon as a seed finishes it
is saved (its own record, model file ``seed<N>.model.pt`` and history CSV in
``<out>/<recipe name>/``) and ``<out>/<recipe name>.json`` is rebuilt from every finished
seed. Seeds already finished are skipped, saying where they were trained; a seed another
process is training is skipped too (see :mod:`tinyconv.study.claims`), so two processes
can share a study. While a seed trains it is checkpointed after every epoch to
``seed<N>.ckpt``; a killed seed continues from its last finished epoch and ends exactly as
an unbroken run would. ``stack=K`` trains new seeds K at a time as one stacked network (a
group keeps no per-epoch checkpoint: if interrupted, it restarts from epoch 1);
``workers=N`` trains seeds in N processes, each with its checkpoints as above. The results
file itself (format, paths, loading, aggregating) belongs to :mod:`tinyconv.study.results`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tinyconv.data import ImageDataset
from tinyconv.model_file import save
from tinyconv.recipe import Recipe
from tinyconv.study.claims import FileLock, claim_holder, claim_seed
from tinyconv.study.provenance import PROVENANCE_KEY, describe_origin, provenance
from tinyconv.study.recipe import run_seed
from tinyconv.study.results import (
    DEFAULT_OUT_DIR,
    check_sizes,
    load_study,
    record_seed,
    results_path,
    seed_paths,
)
from tinyconv.train import History


def run_study(
    recipe: Recipe,
    seeds: Iterable[int],
    train_set: ImageDataset,
    test_set: ImageDataset,
    *,
    out_dir: str | os.PathLike[str] = DEFAULT_OUT_DIR,
    device: str = "auto",
    progress: bool | None = None,
    on_event: Callable[[str], None] | None = None,
    on_seed: Callable[[dict[str, Any]], None] | None = None,
    stack: int = 1,
    workers: int = 1,
) -> dict[str, Any]:
    """Train ``recipe`` once per seed, checkpointing every epoch and saving each finished seed.

    Seeds already present in the results file are skipped (saying where and when they
    were trained); a seed with a checkpoint continues from it; a seed that another process
    is training (a live claim on it) is skipped, and its result joins the results file
    when that process saves it. A results file made with a different recipe (including
    its epoch count) or on other data is refused rather than mixed.

    Args:
        recipe: What to train; ``recipe.train.epochs`` is the number of epochs, and the
            results file records the recipe exactly as it ran.
        seeds: Seeds to run.
        train_set: Training images.
        test_set: Images scored after every epoch, for the record.
        out_dir: Folder of the results file (default ``runs``: a folder that holds no
            committed results, see :data:`~tinyconv.study.results.DEFAULT_OUT_DIR`).
        device: ``"auto"`` or a device string.
        progress: As :attr:`tinyconv.train.TrainConfig.progress`.
        on_event: Called with a line for each seed skipped (with where it was trained, or
            who is training it), resumed or started.
        on_seed: Called with each newly finished seed's result.
        stack: Train new seeds this many at a time as one stacked network
            (:func:`tinyconv.train.fit_stacked`; same results to float noise). A stacked
            group keeps no per-epoch checkpoint: if interrupted, it restarts from epoch 1.
            Seeds that already have a checkpoint are resumed one by one as usual.
        workers: Train seeds in this many worker processes, torch threads divided
            between them (per-epoch checkpoints and resume as usual); not with ``stack``.

    Returns:
        The whole results file content: every seed finished so far, by this process or
        another one sharing the folder.

    Raises:
        ResultsMismatchError: If the existing results file belongs to another setting
            or holds runs on a different number of training or test images.
        ResultsFileError: If the results file, or a seed record beside it, is damaged
            (truncated, or edited after it was written).
        ValueError: If ``stack`` or ``workers`` is below 1, or both are above 1.
    """
    if stack < 1 or workers < 1 or (stack > 1 and workers > 1):
        raise ValueError(f"need stack >= 1 and workers >= 1, not both > 1; got {stack}, {workers}")
    say = on_event or (lambda line: None)
    path = results_path(out_dir, recipe)
    data = load_study(path, recipe.to_dict(), recipe.train.epochs)
    sizes = {"train_samples": len(train_set), "test_samples": len(test_set)}
    check_sizes(path, data, sizes)
    claims: dict[int, FileLock] = {}
    skipped: set[int] = set()

    def finish(result: dict[str, Any], model: Any) -> None:
        nonlocal data
        paths = seed_paths(out_dir, recipe, result["seed"])
        result[PROVENANCE_KEY] = provenance()
        save(model, paths["model"], overwrite=True)
        History.from_list(result["history"]).to_csv(paths["csv"])
        data = record_seed(path, data, result)
        paths["checkpoint"].unlink(missing_ok=True)  # the model file and results hold the seed
        claim = claims.pop(result["seed"], None)
        if claim is not None:
            claim.release()
        if on_seed is not None:
            on_seed(result)

    def claimed(seed: int) -> bool:
        """Skip a finished seed or one another process trains; else claim it (True)."""
        nonlocal data
        if seed in claims or seed in skipped:
            return seed in claims
        skipped.add(seed)
        if str(seed) not in data["seeds"]:
            claim = claim_seed(seed_paths(out_dir, recipe, seed)["claim"])
            if claim is None:
                holder = claim_holder(seed_paths(out_dir, recipe, seed)["claim"])
                say(f"seed {seed}: being trained by {holder}, skipped")
                return False
            claims[seed] = claim
            skipped.discard(seed)
            data = load_study(path, recipe.to_dict(), recipe.train.epochs)  # finished since?
            if str(seed) not in data["seeds"]:
                return True
            claims.pop(seed).release()
            skipped.add(seed)
        say(f"seed {seed}: already finished {describe_origin(data['seeds'][str(seed)])}, skipped")
        return False

    try:
        seeds = list(seeds)
        many: list[int] = []
        if stack > 1 or workers > 1:
            from tinyconv.study.parallel import parallel_runs, stacked_runs

            def checkpoint(seed: int) -> Path:
                return seed_paths(out_dir, recipe, seed)["checkpoint"]

            many = [
                seed
                for seed in dict.fromkeys(seeds)
                if str(seed) not in data["seeds"]
                and (workers > 1 or not checkpoint(seed).exists())
                and claimed(seed)
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
            if seed in many or not claimed(seed):
                continue
            paths = seed_paths(out_dir, recipe, seed)
            paths["checkpoint"].parent.mkdir(parents=True, exist_ok=True)
            if paths["checkpoint"].exists():
                from tinyconv.train import load_checkpoint

                epoch = load_checkpoint(paths["checkpoint"]).epoch
                say(f"seed {seed}: resuming after epoch {epoch}")
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
    finally:
        for claim in claims.values():
            claim.release()
    return data
