"""run_study saves each seed at once, skips finished seeds, refuses mixed settings; aggregate."""

from __future__ import annotations

import json
import os
import shutil
import stat
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import tinyconv
from tinyconv import ConvSpec, GAPHeadSpec
from tinyconv import provenance as provenance_module
from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.errors import ResultsMismatchError
from tinyconv.recipe import Recipe
from tinyconv.study import aggregate, load_results, run_study
from tinyconv.study.results import results_path
from tinyconv.train import TrainConfig, evaluate, fit

REPO = Path(__file__).resolve().parents[2]


def synthetic_digits(count: int, seed: int) -> ImageDataset:
    """Ten classes, each a bright horizontal band at its own height."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 10
    images = torch.randint(0, 40, (count, 1, 28, 28), generator=generator, dtype=torch.uint8)
    for index, label in enumerate(labels.tolist()):
        images[index, 0, 2 * label + 4 : 2 * label + 7] = 255
    return ImageDataset(
        images=images,
        labels=labels,
        name="bands",
        class_names=tuple(str(i) for i in range(10)),
        mean=0.2,
        std=0.3,
    )


TINY = Recipe(
    name="tiny",
    description="a two-block net for fast tests",
    specs=(ConvSpec(out_channels=4, stride=2), GAPHeadSpec(num_classes=10)),
    train=TrainConfig(epochs=2, batch_size=32, lr=0.05, device="cpu", progress=False),
)


@pytest.fixture(scope="module")
def bands() -> tuple[ImageDataset, ImageDataset]:
    return synthetic_digits(256, seed=0), synthetic_digits(100, seed=1)


def test_each_seed_is_saved_and_finished_seeds_are_skipped(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    train, test = bands
    seen: list[int] = []
    data = run_study(
        TINY,
        [0, 1],
        train,
        test,
        out_dir=tmp_path,
        device="cpu",
        on_seed=lambda r: seen.append(r["seed"]),
    )
    assert seen == [0, 1]
    on_disk = load_results(results_path(tmp_path, TINY))
    assert on_disk == json.loads(json.dumps(data))
    assert sorted(on_disk["seeds"]) == ["0", "1"]
    run = on_disk["seeds"]["0"]
    assert len(run["history"]) == 2 and run["epochs"] == 2
    assert run["final_test_acc"] == run["history"][-1]["eval_acc"]
    assert run["best_test_acc"] == max(r["eval_acc"] for r in run["history"])
    assert run["params"] == 4 * 9 + 8 + 40
    # A second call runs only the new seed and keeps the old ones untouched.
    seen.clear()
    again = run_study(
        TINY,
        [0, 1, 2],
        train,
        test,
        out_dir=tmp_path,
        device="cpu",
        on_seed=lambda r: seen.append(r["seed"]),
    )
    assert seen == [2]
    assert again["seeds"]["0"] == on_disk["seeds"]["0"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def with_epochs(recipe: Recipe, epochs: int) -> Recipe:
    return replace(recipe, train=replace(recipe.train, epochs=epochs))


def test_a_results_file_of_another_setting_is_refused(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    train, test = bands
    run_study(with_epochs(TINY, 1), [0], train, test, out_dir=tmp_path, device="cpu")
    with pytest.raises(ResultsMismatchError, match=r"different setting .*epochs.*another --out"):
        run_study(with_epochs(TINY, 2), [1], train, test, out_dir=tmp_path, device="cpu")


def test_the_results_file_records_what_ran(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    train, test = bands
    data = run_study(with_epochs(TINY, 1), [0], train, test, out_dir=tmp_path, device="cpu")
    assert data["epochs"] == data["recipe"]["train"]["epochs"] == 1
    assert data["seeds"]["0"]["epochs"] == 1
    assert Recipe.from_dict(data["recipe"]) == with_epochs(TINY, 1)
    for path in (results_path(tmp_path, TINY), tmp_path / "tiny" / "seed0.model.pt"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~current_umask(), path


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_each_seed_leaves_a_model_file_that_reproduces_its_score(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    train, test = bands
    data = run_study(TINY, [0], train, test, out_dir=tmp_path, device="cpu")
    model = tinyconv.load(tmp_path / "tiny" / "seed0.model.pt")
    loader = TensorLoader(test, 50)
    assert evaluate(model, loader).accuracy == data["seeds"]["0"]["final_test_acc"]
    assert model.metadata == {
        "recipe": "tiny",
        "seed": 0,
        "final_test_acc": pytest.approx(data["seeds"]["0"]["final_test_acc"]),
    }
    assert not (tmp_path / "tiny" / "seed0.ckpt").exists()  # the seed is finished


def test_an_interrupted_seed_resumes_and_says_so(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    """A checkpoint left by a killed seed is continued; the result equals an unbroken run."""
    train, test = bands
    three = with_epochs(TINY, 3)
    unbroken = run_study(three, [0], train, test, out_dir=tmp_path / "a", device="cpu")
    # What a kill after epoch 1 leaves behind: the checkpoint of a 1-epoch run of this recipe.
    folder = tmp_path / "b" / "tiny"
    folder.mkdir(parents=True)
    model = three.build_model(seed=0)
    config = replace(three.train, seed=0, epochs=1)
    loader = TensorLoader(train, 32, shuffle=True, seed=0)
    fit(model, loader, config, checkpoint_path=folder / "seed0.ckpt")
    events: list[str] = []
    broken = run_study(
        three, [0, 1], train, test, out_dir=tmp_path / "b", device="cpu", on_event=events.append
    )
    started = [line for line in events if not line.startswith("study: about")]
    assert started[:2] == ["seed 0: resuming after epoch 1", "seed 1: training 3 epochs"]
    assert broken["seeds"]["0"]["resumed_after_epoch"] == 1
    for key in ("final_test_acc", "final_train_acc", "best_test_acc"):
        assert broken["seeds"]["0"][key] == unbroken["seeds"]["0"][key]
    again: list[str] = []
    run_study(three, [0], train, test, out_dir=tmp_path / "b", device="cpu", on_event=again.append)
    assert len(again) == 1 and again[0].startswith("seed 0: already finished on cpu on ")
    assert again[0].endswith(", skipped") and f"with tinyconv {tinyconv.__version__}" in again[0]


def test_runs_on_other_data_are_not_mixed_in(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    train, test = bands
    run_study(TINY, [0], train, test, out_dir=tmp_path, device="cpu")
    smaller = train.subset(range(128))
    with pytest.raises(ResultsMismatchError, match=r"train_samples=\[256\], but this study"):
        run_study(TINY, [0, 1], smaller, test, out_dir=tmp_path, device="cpu")


def test_a_corrupt_results_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"not valid JSON.*delete it"):
        load_results(path)
    path.write_text("[]")
    with pytest.raises(ValueError, match="not a tinyconv results file"):
        load_results(path)


def test_aggregate_reports_final_epoch_statistics() -> None:
    runs = {
        str(seed): {
            "final_test_acc": final,
            "best_test_acc": best,
            "final_train_acc": 0.99,
            "wall_seconds": 10.0 * (seed + 1),
            "params": 6000,
            "device_name": "cpu",
        }
        for seed, (final, best) in enumerate([(0.993, 0.995), (0.995, 0.996), (0.997, 0.997)])
    }
    row = aggregate({"seeds": runs}, target=0.994)
    assert row["seeds"] == 3
    assert row["final_mean"] == pytest.approx(0.995)
    assert row["final_std"] == pytest.approx(0.002)  # sample standard deviation
    assert row["final_min"] == 0.993
    assert row["hits"] == 2 and row["hit_rate"] == pytest.approx(2 / 3)
    assert row["best_mean"] == pytest.approx(0.996)
    assert row["wall_mean"] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="no finished seeds"):
        aggregate({"seeds": {}})


def test_old_results_and_other_execution_settings_continue_the_same_study(
    tmp_path: Path, mnist_train: ImageDataset, mnist_test: ImageDataset
) -> None:
    from tinyconv.recipes import RECIPES, get_recipe

    recorded = json.loads((REPO / "results" / "cpu" / "mnist_v5.json").read_text())
    assert "compile_mode" not in recorded["recipe"]["train"]  # written before the field
    shutil.copy(REPO / "results" / "cpu" / "mnist_v5.json", tmp_path / "mnist_v5.json")
    # written in recipe format 1, before hash masks became the default: its seeds drew
    # torch's masks, so the ready recipe (hash masks now) is another setting, named so
    with pytest.raises(ResultsMismatchError, match=r"drew 'torch' dropout masks.*tinyconv study"):
        run_study(RECIPES["mnist_v5"], [0], mnist_train, mnist_test, out_dir=tmp_path)
    as_recorded = get_recipe(str(tmp_path / "mnist_v5.json"))  # the results file as the recipe
    assert as_recorded.train.dropout_masks == "torch" and as_recorded.name == "mnist_v5"
    lines: list[str] = []
    data = run_study(
        as_recorded, [0], mnist_train, mnist_test, out_dir=tmp_path, on_event=lines.append
    )
    assert lines == [
        "seed 0: already finished on cpu (date, tinyconv version and commit not recorded: an "
        "older tinyconv wrote it), skipped"
    ]
    assert data["seeds"]["0"] == recorded["seeds"]["0"]
    # how seeds execute (device, compiling) is no other setting
    train = replace(as_recorded.train, compile=True, compile_mode="reduce-overhead")
    compiled = replace(as_recorded, train=replace(train, device="cuda", sync_every=7))
    lines.clear()
    run_study(compiled, [1], mnist_train, mnist_test, out_dir=tmp_path, on_event=lines.append)
    assert lines == [
        "seed 1: already finished on cpu (date, tinyconv version and commit not recorded: an "
        "older tinyconv wrote it), skipped"
    ]
    other = replace(as_recorded, train=replace(as_recorded.train, lr=0.2))
    with pytest.raises(ResultsMismatchError, match="different setting"):
        run_study(other, [0], mnist_train, mnist_test, out_dir=tmp_path)


def test_the_commit_is_read_when_the_study_starts_not_when_a_seed_finishes(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    # A checkout that moves on while a study trains must not relabel its seeds: the commit
    # is read (and kept for the process) before any training, so even a study with
    # nothing to train has read it.
    train, test = bands
    run_study(TINY, [0], train, test, out_dir=tmp_path, device="cpu")
    provenance_module._git_state.cache_clear()
    run_study(TINY, [0], train, test, out_dir=tmp_path, device="cpu")  # seed 0 is skipped
    assert provenance_module._git_state.cache_info().currsize == 1
