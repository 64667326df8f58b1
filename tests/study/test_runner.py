"""run_study saves each seed at once, skips finished seeds, refuses mixed settings; aggregate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tinyconv import ConvSpec, GAPHeadSpec
from tinyconv.data import ImageDataset
from tinyconv.study import Recipe, aggregate, load_results, run_study
from tinyconv.study.runner import results_path
from tinyconv.train import TrainConfig


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
        classes=tuple(str(i) for i in range(10)),
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


def test_a_results_file_of_another_setting_is_refused(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    train, test = bands
    run_study(TINY, [0], train, test, out_dir=tmp_path, device="cpu", epochs=1)
    with pytest.raises(ValueError, match=r"different setting .*epochs.*another --out"):
        run_study(TINY, [1], train, test, out_dir=tmp_path, device="cpu", epochs=2)


def test_runs_on_other_data_are_not_mixed_in(
    tmp_path: Path, bands: tuple[ImageDataset, ImageDataset]
) -> None:
    train, test = bands
    run_study(TINY, [0], train, test, out_dir=tmp_path, device="cpu")
    smaller = train.subset(range(128))
    with pytest.raises(ValueError, match=r"train_samples=\[256\], but this study has 128"):
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
    row = aggregate({"seeds": runs})
    assert row["seeds"] == 3
    assert row["final_mean"] == pytest.approx(0.995)
    assert row["final_std"] == pytest.approx(0.002)  # sample standard deviation
    assert row["final_min"] == 0.993
    assert row["hits"] == 2 and row["hit_rate"] == pytest.approx(2 / 3)
    assert row["best_mean"] == pytest.approx(0.996)
    assert row["wall_mean"] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="no finished seeds"):
        aggregate({"seeds": {}})
