"""run_study with stack=K (stacked groups) and workers=N (processes): same per-seed results."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

import tinyconv
from tinyconv import ConvSpec, GAPHeadSpec, SESpec
from tinyconv.cli.commands.study import add_arguments as add_study_arguments
from tinyconv.cli.commands.study import run as run_recipe
from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.errors import UsageError
from tinyconv.recipe import Recipe
from tinyconv.recipes import RECIPES
from tinyconv.study import load_results, run_study
from tinyconv.study.results import results_path
from tinyconv.train import TrainConfig, fit


def synthetic_digits(count: int, seed: int) -> ImageDataset:
    """Ten classes, each a bright horizontal band at its own height, on noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 10
    images = torch.randint(0, 40, (count, 1, 28, 28), generator=generator, dtype=torch.uint8)
    for index, label in enumerate(labels.tolist()):
        images[index, 0, 2 * label + 4 : 2 * label + 7] = 255
    classes = tuple(str(i) for i in range(10))
    return ImageDataset(images, labels, "bands", classes, 0.2, 0.3)


SMALL = Recipe(
    name="small",
    description="BN, dropout and SE: everything a stacked group must keep per seed",
    specs=(
        ConvSpec(out_channels=4, stride=2, dropout=0.1),
        SESpec(rd_channels=2),
        ConvSpec(out_channels=6, stride=2),
        GAPHeadSpec(num_classes=10),
    ),
    train=TrainConfig(
        epochs=2, batch_size=32, lr=0.05, scheduler="step", step_size=1, device="cpu"
    ),
)
TIMINGS = (
    "seconds", "images_per_sec", "wall_seconds", "stacked_seeds", "torch_threads", "provenance"
)  # fmt: skip
"""Facts about how a run ran (time, grouping, threads, when and where), not what it computed."""


def without_timings(run: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in run.items() if k not in TIMINGS}
    kept["history"] = [{k: v for k, v in row.items() if k not in TIMINGS} for row in run["history"]]
    return kept


@pytest.fixture(scope="module")
def bands() -> tuple[ImageDataset, ImageDataset]:
    return synthetic_digits(192, seed=0), synthetic_digits(60, seed=1)


def test_stacked_groups_give_each_seed_its_sequential_result(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    train, test = bands
    one = run_study(SMALL, [0, 1, 2], train, test, out_dir=tmp_path / "one", progress=False)
    # Seed 1 was interrupted after epoch 1 in an earlier sitting: it resumes on its own.
    folder = tmp_path / "many" / "small"
    folder.mkdir(parents=True)
    config = replace(SMALL.train, seed=1, epochs=1, progress=False)
    loader = TensorLoader(train, 32, shuffle=True, seed=1)
    scored = {"eval_loader": TensorLoader(test, SMALL.eval_batch_size), "eval_name": "test"}
    fit(SMALL.build_model(seed=1), loader, config, checkpoint_path=folder / "seed1.ckpt", **scored)
    events: list[str] = []
    many = run_study(
        SMALL,
        [0, 1, 2, 3],
        train,
        test,
        out_dir=tmp_path / "many",
        progress=False,
        stack=2,
        on_event=events.append,
    )
    assert [line.split(" left")[0].split(" about")[0] for line in events] == [
        "seeds 0, 2: training 2 epochs stacked as one network",
        "study:",  # about ... left for 2 more seed(s), after each seed of the group
        "study:",
        "seed 3: training 2 epochs",
        "study:",
        "seed 1: resuming after epoch 1",
    ]
    assert events[1].endswith("left for 2 more seed(s)") and events[4].endswith("1 more seed(s)")
    assert many["seeds"]["0"]["stacked_seeds"] == [0, 2]
    for seed in ("0", "1", "2"):
        alone, joint = without_timings(one["seeds"][seed]), without_timings(many["seeds"][seed])
        assert joint.pop("resumed_after_epoch") == (1 if seed == "1" else 0)
        alone.pop("resumed_after_epoch")
        assert joint.keys() == alone.keys()
        for key in alone:
            if key == "history":
                for row_alone, row_joint in zip(alone[key], joint[key], strict=True):
                    assert row_joint.pop("eval_name") == row_alone.pop("eval_name")
                    assert row_joint == pytest.approx(row_alone, rel=1e-4, abs=1e-6)
            elif isinstance(alone[key], str):
                assert joint[key] == alone[key], key
            else:
                assert joint[key] == pytest.approx(alone[key], rel=1e-4), key
    for seed in (0, 1, 2, 3):
        model = tinyconv.load(folder / f"seed{seed}.model.pt")
        assert model.metadata["seed"] == seed
        assert (folder / f"seed{seed}.csv").is_file()
        assert not (folder / f"seed{seed}.ckpt").exists()
    assert load_results(results_path(tmp_path / "many", SMALL)) == json.loads(json.dumps(many))


def test_worker_processes_give_identical_results_on_real_mnist(
    tmp_path: Path, mnist_train: ImageDataset, mnist_test: ImageDataset
) -> None:
    recipe = replace(
        RECIPES["mnist_v5"], name="v5_tiny", train=replace(RECIPES["mnist_v5"].train, epochs=1)
    )
    train, test = mnist_train.subset(range(384)), mnist_test.subset(range(300))
    kwargs: dict[str, Any] = {"device": "cpu", "progress": False}
    # The same thread count per run as each worker gets: the float rounding of CPU kernels
    # depends on it, so only runs on equal thread counts are bit-identical.
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads // 2))
    try:
        sequential = run_study(recipe, [0, 1], train, test, out_dir=tmp_path / "seq", **kwargs)
    finally:
        torch.set_num_threads(threads)
    events: list[str] = []
    parallel = run_study(
        recipe, [0, 1], train, test, out_dir=tmp_path / "par", workers=2, on_event=events.append,
        **kwargs,
    )  # fmt: skip
    started = [line for line in events if not line.startswith("study: about")]
    assert len(started) == 2 and all("worker processes" in line for line in started)
    on_disk = load_results(results_path(tmp_path / "par", recipe))
    assert sorted(on_disk["seeds"]) == ["0", "1"]
    for seed in ("0", "1"):
        assert without_timings(on_disk["seeds"][seed]) == without_timings(sequential["seeds"][seed])
        assert (tmp_path / "par" / "v5_tiny" / f"seed{seed}.model.pt").is_file()
    assert parallel["seeds"].keys() == on_disk["seeds"].keys()


def test_the_command_line_refuses_stack_with_workers() -> None:
    parser = argparse.ArgumentParser()
    add_study_arguments(parser, recipe_argument=False)
    args = parser.parse_args(["--stack", "5", "--workers", "2"])
    assert (args.stack, args.workers) == (5, 2)
    with pytest.raises(UsageError, match="--stack and --workers"):
        run_recipe(args, SMALL)
