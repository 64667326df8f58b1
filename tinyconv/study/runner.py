"""Multi-seed studies that survive interruption and share a folder safely.

:func:`run_study` trains a recipe for each requested seed; as soon as a seed finishes it
is saved (its own record, model file ``seed<N>.model.pt`` and history CSV in
``<out>/<recipe name>/``) and ``<out>/<recipe name>.json`` is rebuilt from every finished
seed. Seeds already finished are skipped, saying where they were trained; a seed another
process is training is skipped too (see :mod:`tinyconv.study.claims`), so two processes
can share a study. While a seed trains it is checkpointed after every epoch to
``seed<N>.ckpt``; a killed seed continues from its last finished epoch and ends exactly as
an unbroken run would. ``stack=K`` trains new seeds K at a time as one stacked network,
checkpointed the same way (``seeds<a>-<b>.ckpt``); ``workers=N`` trains seeds in N processes
(:func:`tinyconv.workers.process_pool`), each with its checkpoints as above. A study is
claim -> train -> record: claiming and recording belong to
:class:`~tinyconv.study.ledger.StudyLedger`, training to
:func:`tinyconv.experiment.train_recipe`. The results
file itself (format, paths, loading, aggregating) belongs to :mod:`tinyconv.study.results`.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import as_completed
from pathlib import Path
from typing import Any

from tinyconv.data import ImageDataset
from tinyconv.experiment import train_recipe
from tinyconv.outputs import check_writable_folder
from tinyconv.provenance import pin_code_state
from tinyconv.recipe import Recipe
from tinyconv.study.ledger import StudyLedger, TimeLeft
from tinyconv.study.records import seed_record
from tinyconv.study.results import DEFAULT_OUT_DIR, seed_paths
from tinyconv.train import load_checkpoint
from tinyconv.train.progress import format_count
from tinyconv.workers import process_pool, split_threads


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
    seeds_after: int = 0,
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
            who is training it), resumed or started, and with the time left after each
            finished seed.
        on_seed: Called with each newly finished seed's result.
        stack: Train new seeds this many at a time as one stacked network
            (:func:`tinyconv.train.fit_stacked`; same results to float noise), checkpointed
            every epoch like a single seed. A seed that began alone resumes alone.
        workers: Train seeds in this many worker processes, torch threads divided
            between them (per-epoch checkpoints and resume as usual); not with ``stack``.
        seeds_after: Seeds of the same size that later studies of the same job will
            train (``make reproduce`` runs two recipes): the time left after each seed
            counts them too.

    Returns:
        The whole results file content: every seed finished so far, by this process or
        another one sharing the folder.

    Raises:
        ResultsMismatchError: If the existing results file belongs to another setting
            or holds runs on a different number of training or test images.
        ResultsFileError: If the results file, or a seed record beside it, is damaged
            (truncated, or edited after it was written).
        ValueError: If ``stack`` or ``workers`` is below 1, or both are above 1.
        OutputPathError: If ``out_dir`` is a file or cannot be written.
    """
    if stack < 1 or workers < 1 or (stack > 1 and workers > 1):
        raise ValueError(f"need stack >= 1 and workers >= 1, not both > 1; got {stack}, {workers}")
    check_writable_folder(out_dir)  # a file or read-only folder: one error before training
    pin_code_state()  # the commit of the code this study runs, not of the checkout at its end
    say = on_event or (lambda line: None)
    sizes = {"train_samples": len(train_set), "test_samples": len(test_set)}
    ledger = StudyLedger(recipe, out_dir, sizes, say)
    clock = TimeLeft(say, seeds_after)

    def done(result: dict[str, Any], model: Any, left: int) -> None:
        ledger.record(result, model)
        if on_seed is not None:
            on_seed(result)
        clock.seed_finished(left)

    seeds = list(dict.fromkeys(seeds))
    try:
        if workers > 1:
            todo = ledger.claimed(seeds)
            runs = _in_workers(recipe, todo, train_set, test_set, out_dir, device, workers, say)
            for finished, (result, model) in enumerate(runs, start=1):
                done(result, model, len(todo) - finished)
            return ledger.data
        for group, checkpoint, label, left_after in _groups(seeds, stack, ledger, say):
            runs = train_recipe(
                recipe, group, train_set, test_set, eval_name="test", device=device,
                progress=progress, checkpoint_path=checkpoint, label=label,
            )  # fmt: skip
            left = left_after()
            for run in runs:
                done(seed_record(run, device, (len(train_set), len(test_set))), run.model, left)
            checkpoint.unlink(missing_ok=True)
    finally:
        ledger.release()
    return ledger.data


def _groups(
    seeds: list[int], stack: int, ledger: StudyLedger, say: Callable[[str], None]
) -> Iterator[tuple[list[int], Path, str, Callable[[], int]]]:
    """The groups to train in turn (``stack`` seeds, or one).

    Seeds are claimed as their group comes up, so a seed another process finishes
    meanwhile is skipped. A seed that began alone (a single-seed checkpoint) resumes
    alone, after the others.

    Yields:
        ``(group, checkpoint, label, left_after)``: ``left_after()`` counts the seeds
        after this group not finished yet (asked once the group has trained).
    """
    recipe, out_dir = ledger.recipe, ledger.out_dir
    position = {seed: index for index, seed in enumerate(seeds, start=1)}

    def began_alone(seed: int) -> bool:
        return stack > 1 and seed_paths(out_dir, recipe, seed)["checkpoint"].exists()

    alone = [seed for seed in seeds if began_alone(seed)]
    pending = [seed for seed in seeds if seed not in alone]

    def left_after() -> int:
        return sum(1 for seed in pending + alone if not ledger.finished(seed))

    while pending or alone:
        group: list[int] = []
        if pending:
            while pending and len(group) < stack:
                seed = pending.pop(0)
                if ledger.claim(seed):
                    group.append(seed)
        elif ledger.claim(seed := alone.pop(0)):
            group = [seed]
        if not group:
            continue
        if len(group) == 1:
            label = f"seed {group[0]} ({position[group[0]]} of {len(seeds)})"
        else:
            label = f"seeds {', '.join(map(str, group))} of {len(seeds)}"
        yield group, _checkpoint(out_dir, recipe, group, say), label, left_after


def _checkpoint(
    out_dir: str | os.PathLike[str], recipe: Recipe, group: list[int], say: Callable[[str], None]
) -> Path:
    """Where ``group`` (one seed, or a stacked group) checkpoints; says how it starts."""
    if len(group) == 1:
        path = seed_paths(out_dir, recipe, group[0])["checkpoint"]
        who = f"seed {group[0]}"
    else:
        path = Path(out_dir) / recipe.name / f"seeds{'-'.join(map(str, group))}.ckpt"
        who = f"seeds {', '.join(map(str, group))}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        say(f"{who}: resuming after epoch {load_checkpoint(path).epoch}")
    elif len(group) == 1:
        say(f"{who}: training {format_count(recipe.train.epochs, 'epoch')}")
    else:
        say(f"{who}: training {format_count(recipe.train.epochs, 'epoch')} stacked as one network")
    return path


_WORKER_DATA: dict[str, ImageDataset] = {}


def _in_workers(
    recipe: Recipe,
    seeds: Sequence[int],
    train_set: ImageDataset,
    test_set: ImageDataset,
    out_dir: str | os.PathLike[str],
    device: str,
    workers: int,
    say: Callable[[str], None],
) -> Iterator[tuple[dict[str, Any], Any]]:
    """Train ``seeds`` in worker processes, yielding each as it finishes.

    Each worker gets :func:`~tinyconv.workers.split_threads` torch threads and prints one
    line per epoch labelled with its seed; every seed checkpoints and resumes as usual.
    """
    threads = split_threads(workers)
    where = f"in one of {workers} worker processes, {threads} torch thread(s) each"
    with process_pool(workers, threads, _keep_data, (train_set, test_set)) as pool:
        futures = []
        for seed in seeds:
            path = seed_paths(out_dir, recipe, seed)["checkpoint"]
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.exists():
                say(f"seed {seed}: resuming from its checkpoint {where}")
            else:
                say(f"seed {seed}: training {format_count(recipe.train.epochs, 'epoch')} {where}")
            futures.append(pool.submit(_train_in_worker, recipe, seed, device, str(path)))
        for future in as_completed(futures):
            result, model_bytes = future.result()
            yield result, pickle.loads(model_bytes)


def _keep_data(train_set: ImageDataset, test_set: ImageDataset) -> None:
    _WORKER_DATA.update(train=train_set, test=test_set)


def _train_in_worker(
    recipe: Recipe, seed: int, device: str, checkpoint: str
) -> tuple[dict[str, Any], bytes]:
    train_set, test_set = _WORKER_DATA["train"], _WORKER_DATA["test"]
    (run,) = train_recipe(
        recipe,
        [seed],
        train_set,
        test_set,
        eval_name="test",
        device=device,
        progress="lines",
        checkpoint_path=checkpoint,
        label=f"[worker {os.getpid()}] seed {seed}",
    )
    record = seed_record(run, device, (len(train_set), len(test_set)))
    return record, pickle.dumps(run.model)
