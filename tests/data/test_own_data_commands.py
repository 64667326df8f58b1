"""Your own images through every command, in real subprocesses, as a user runs them.

Two ImageFolder trees of PNGs written here: 32x32 RGB colour patches (a tiny net learns
the colour) and real MNIST digits saved as grayscale PNGs. Each is registered from its
``tinyconv-dataset.json``, then trained (``tinyconv study``), searched (``search``,
``search-best``), exported (``export --int8``) and reported (``report``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from own_data import (
    assert_one_line_error,
    describe,
    tinyconv_command,
    tinyconv_commands,
    write_colour_patches,
    write_digits,
)
from PIL import Image

import tinyconv as tc
from tinyconv.data import ImageDataset
from tinyconv.data.registry import DATASETS_ENV_VAR
from tinyconv.recipe import Recipe
from tinyconv.train import TrainConfig

TINY_RGB = Recipe(
    name="patches_tiny",
    description="a small net for the colour patches",
    dataset="patches",
    specs=(
        tc.ConvSpec(out_channels=8),
        tc.ConvSpec(out_channels=12),
        tc.TransitionSpec(out_channels=8),
        tc.ConvSpec(out_channels=12),
        tc.SESpec(rd_channels=4),
        tc.GAPHeadSpec(num_classes=4),
    ),
    train=TrainConfig(epochs=3, batch_size=32, optimizer="adam", lr=0.01),
    eval_batch_size=50,
)


@pytest.fixture(scope="module")
def patches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_colour_patches(tmp_path_factory.mktemp("patches"), train=60, test=20)
    return describe(
        root, name="patches", kind="image_folder", target_accuracy=0.9, display_name="Patches"
    )


@pytest.fixture(scope="module")
def patches_study(patches: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tinyconv study`` of TINY_RGB, a recipe JSON naming the dataset."""
    work = tmp_path_factory.mktemp("study")
    recipe = work / "patches_tiny.json"
    recipe.write_text(json.dumps(TINY_RGB.to_dict()))
    out = work / "results"
    result = tinyconv_command(
        "study", str(recipe), "--seeds", "1", "--out", str(out), "--quiet", "--device", "cpu",
        "--dataset-dir", str(patches),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def test_study_on_rgb_pngs_learns_the_colours(patches_study: Path) -> None:
    data = json.loads((patches_study / "patches_tiny.json").read_text())
    (seed,) = data["seeds"].values()
    assert seed["train_samples"] == 240 and seed["test_samples"] == 80
    assert seed["final_test_acc"] >= 0.6  # chance is 0.25
    model = tc.load(patches_study / "patches_tiny" / "seed0.model.pt")
    assert (model.in_channels, model.input_size, model.dataset) == (3, (32, 32), "patches")
    assert model.class_names == ("blue", "green", "red", "yellow")
    assert model.normalization.channels == 3 and len(set(model.normalization.std)) == 3


def test_an_rgb_model_file_scores_the_same_in_a_fresh_process(
    patches: Path, patches_study: Path
) -> None:
    data = json.loads((patches_study / "patches_tiny.json").read_text())
    model = patches_study / "patches_tiny" / "seed0.model.pt"
    code = (
        "import sys, tinyconv\nfrom tinyconv.data import load_dataset, score_images\n"
        "model = tinyconv.load(sys.argv[1])\n"
        "print(repr(score_images(model, load_dataset(model.dataset, train=False)).accuracy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(model)],
        capture_output=True,
        text=True,
        env={**os.environ, DATASETS_ENV_VAR: str(patches)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) == data["seeds"]["0"]["final_test_acc"]


def test_export_int8_calibrates_on_the_users_training_images(
    patches: Path, patches_study: Path, tmp_path: Path
) -> None:
    model = patches_study / "patches_tiny" / "seed0.model.pt"
    result = tinyconv_command(
        "export", str(model), "--out", str(tmp_path), "--int8", "--dataset-dir", str(patches),
        "--calibration-images", "40", "--latency-runs", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "seed0.export.json").read_text())
    assert report["dataset"] == "patches"
    assert report["calibration"] == {"images": 40, "source": "first 40 patches training images"}
    final = json.loads((patches_study / "patches_tiny.json").read_text())["seeds"]["0"]
    assert report["accuracy"]["test_images"] == 80
    assert report["accuracy"]["pytorch"] == report["accuracy"]["onnx_fp32"]
    assert report["accuracy"]["pytorch"] == final["final_test_acc"]
    assert abs(report["accuracy"]["int8_minus_fp32_points"]) <= 5.0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "seed0.export.json", "seed0.int8.onnx", "seed0.onnx",
    ]  # fmt: skip


def test_quantization_aware_int8_on_a_small_dataset_of_the_users(
    patches: Path, patches_study: Path, tmp_path: Path
) -> None:
    """240 RGB training images: a tenth (24) is held out, the rest fine-tune the int8 model."""
    model = patches_study / "patches_tiny" / "seed0.model.pt"
    result = tinyconv_command(
        "export", str(model), "--out", str(tmp_path), "--int8", "--dataset-dir", str(patches),
        "--qat-epochs", "1", "--latency-runs", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "seed0.export.json").read_text())
    aware = report["quantization_aware"]
    assert (aware["train_images"], aware["val_images"]) == (216, 24)
    assert report["calibration"]["source"] == (
        "quantization-aware fine-tuning: 1 epoch(s) on 216 patches training images"
    )
    assert report["parity"]["onnx_int8_vs_quantized_pytorch_argmax_agreement"] >= 79 / 80
    assert report["accuracy"]["test_images"] == 80  # one near tie may flip: 1 of 80 allowed


def test_report_names_the_classes_and_draws_the_gallery_in_colour(
    patches: Path, patches_study: Path, tmp_path: Path
) -> None:
    result = tinyconv_command(
        "report", str(patches_study / "patches_tiny.json"), "--out", str(tmp_path),
        "--dataset-dir", str(patches),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [
        "budget.png", "confusion.png", "index.html", "learning_curves.png",
        "misclassified.png", "se_gates.png",
    ]  # fmt: skip
    page = (tmp_path / "index.html").read_text()
    assert "1 seed on Patches" in page and "Seeds ≥ 90.0 %" in page
    assert "on 80 Patches test images" in page
    gallery = np.asarray(Image.open(tmp_path / "misclassified.png").convert("RGB")).astype(int)
    assert (np.abs(gallery[..., 0] - gallery[..., 1]) > 60).any()  # colour pixels drawn


def test_a_model_file_without_a_dataset_is_refused_not_scored_on_mnist(
    patches: Path, patches_study: Path, tmp_path: Path
) -> None:
    model = tc.load(patches_study / "patches_tiny" / "seed0.model.pt")
    model.dataset = None
    bare = tc.save(model, tmp_path / "bare.model.pt")
    dirs = ["--dataset-dir", str(patches)]
    export, report, named = tinyconv_commands(
        ["export", str(bare), "--out", str(tmp_path / "e"), *dirs, "--latency-runs", "2"],
        ["report", str(bare), "--out", str(tmp_path / "r"), *dirs],
        ["export", str(bare), "--out", str(tmp_path / "n"), *dirs, "--latency-runs", "2",
         "--dataset", "patches"],
    )  # fmt: skip
    for result in (export, report):
        assert_one_line_error(result, "bare.model.pt records no dataset", "--dataset NAME")
    assert named[0] == 0, named[1]
    assert not (tmp_path / "e").exists()
    export_json = json.loads((tmp_path / "n" / "bare.export.json").read_text())
    assert export_json["dataset"] == "patches"


def test_search_and_search_best_on_the_users_dataset(patches: Path, tmp_path: Path) -> None:
    search = tinyconv_command(
        "search", "patches", "--dataset-dir", str(patches), "--trials", "1", "--epochs", "1",
        "--val-size", "40", "--out", str(tmp_path / "s"), "--sampler-seed", "0",
    )  # fmt: skip
    assert search.returncode == 0, search.stderr
    assert "trials: 1 complete" in search.stdout
    assert f"--dataset-dir {patches}" in search.stdout  # the next commands say how
    best = tmp_path / "best.json"
    exported = tinyconv_command(
        "search-best", str(tmp_path / "s"), "--study-name", "patches", "--out", str(best),
        "--dataset-dir", str(patches),
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    recipe = json.loads(best.read_text())
    assert recipe["dataset"] == "patches" and recipe["specs"][-1]["num_classes"] == 4
    summary = tinyconv_command("summary", str(best), "--dataset-dir", str(patches))
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.startswith("Input: 3x32x32")


def test_bad_datasets_are_each_one_clear_error(tmp_path: Path) -> None:
    def folder(name: str) -> Path:
        root = tmp_path / name
        for label in ("a", "b"):
            (root / "train" / label).mkdir(parents=True)
            Image.new("RGB", (8, 8), "red").save(root / "train" / label / "x.png")
        return root

    mixed = folder("mixed")
    Image.new("RGB", (9, 8), "red").save(mixed / "train" / "b" / "y.png")
    unreadable = folder("unreadable")
    (unreadable / "train" / "a" / "y.png").write_bytes(b"\x89PNG truncated")
    empty = folder("empty")
    (empty / "train" / "c").mkdir()
    builtin = folder("builtin")
    arrays = tmp_path / "arrays"
    arrays.mkdir()
    np.savez(arrays / "train.npz", images=np.zeros((3, 8, 8), np.uint8), labels=np.array([0, 1, 5]))
    folders = {
        "mixed": (mixed, {"kind": "image_folder"}),
        "unreadable": (unreadable, {"kind": "image_folder"}),
        "empty": (empty, {"kind": "image_folder"}),
        "mnist": (builtin, {"kind": "image_folder"}),
        "arrays": (arrays, {"kind": "arrays", "test": None, "class_names": ["a", "b"]}),
    }
    argvs = []
    for name, (root, facts) in folders.items():
        describe(root, name=name, **facts)
        recipe = tmp_path / f"{name}.json"
        recipe.write_text(json.dumps({**TINY_RGB.to_dict(), "dataset": name}))
        argvs.append(["summary", str(recipe), "--dataset-dir", str(root)])
    results = tinyconv_commands(*argvs)
    assert_one_line_error(results[0], "images differ in size", "y.png is 9x8", "resize")
    assert_one_line_error(results[1], "cannot decode image", "y.png")
    assert_one_line_error(results[2], "class folder", "holds no images")
    assert_one_line_error(results[3], "'mnist' is a built-in dataset", "another name")
    assert_one_line_error(results[4], "labels range over [0, 5] but there are 2 classes")


@pytest.mark.mnist
def test_mnist_digits_as_pngs_go_through_study_export_and_report(
    mnist_train: ImageDataset, mnist_test: ImageDataset, tmp_path: Path
) -> None:
    root = describe(
        write_digits(tmp_path / "digits", mnist_train, mnist_test, per_class=40),
        name="digits",
        kind="image_folder",
        class_names=[str(digit) for digit in range(10)],
    )
    out, dirs = tmp_path / "results", ["--dataset-dir", str(root)]
    study = tinyconv_command(  # MNIST V5 moved onto the PNG folder
        "study", "mnist_v5", "--dataset", "digits", *dirs, "--epochs", "2", "--out", str(out),
        "--quiet", "--device", "cpu",
    )  # fmt: skip
    assert study.returncode == 0, study.stderr
    model_file = out / "mnist_v5_digits" / "seed0.model.pt"
    model = tc.load(model_file)
    # the statistics computed from 400 digit PNGs are MNIST's, near enough
    assert model.normalization.mean[0] == pytest.approx(0.1307, abs=0.02)
    assert model.normalization.std[0] == pytest.approx(0.3081, abs=0.02)
    # prune it on the same folder: the model file's own recipe (mnist_v5_digits), a
    # validation split sized to 400 training images; then the study's results file and
    # the ready mnist_v5 as --recipe, both moved onto the digits
    for index, recipe in enumerate((None, str(out / "mnist_v5_digits.json"), "mnist_v5")):
        pruned = tmp_path / f"pruned{index}"
        prune = tinyconv_command(
            "prune", str(model_file), "--max-params", "4000", "--out", str(pruned), *dirs,
            "--epochs", "0", "--quiet", "--device", "cpu",
            *(["--recipe", recipe] if recipe else []),
        )  # fmt: skip
        assert prune.returncode == 0, prune.stderr
        pruning = json.loads((pruned / "report.json").read_text())
        assert pruning["recipe"] == "mnist_v5_digits"
        assert (pruning["train_images"], pruning["val_images"]) == (360, 40)
        assert tc.count_parameters(tc.load(pruned / "model.pt")) <= 4000
    export = tinyconv_command(
        "export", str(model_file), "--out", str(tmp_path / "export"), "--int8", *dirs,
        "--calibration-images", "100", "--latency-runs", "3",
    )  # fmt: skip
    assert export.returncode == 0, export.stderr
    report = tinyconv_command(
        "report", str(out / "mnist_v5_digits.json"), "--out", str(tmp_path / "r"), *dirs
    )
    assert report.returncode == 0, report.stderr
    assert {p.name for p in (tmp_path / "export").iterdir()} == {
        "seed0.onnx", "seed0.int8.onnx", "seed0.export.json",
    }  # fmt: skip
    assert {p.name for p in (tmp_path / "r").iterdir()} == {
        "index.html", "learning_curves.png", "budget.png", "confusion.png",
        "misclassified.png", "se_gates.png",
    }  # fmt: skip


@pytest.mark.mnist
def test_images_too_small_for_a_recipe_are_one_line_naming_the_smallest_size(
    mnist_train: ImageDataset, mnist_test: ImageDataset, tmp_path: Path
) -> None:
    argvs = []
    for side in (8, 16):  # MNIST digits shrunk to 8x8 and 16x16 PNGs, 10 per class and split
        root = tmp_path / f"small{side}"
        for split, data in (("train", mnist_train), ("test", mnist_test)):
            for digit in range(10):
                folder = root / split / str(digit)
                folder.mkdir(parents=True)
                for index in (data.labels == digit).nonzero().flatten()[:10].tolist():
                    pixels = Image.fromarray(data.images[index, 0].numpy(), mode="L")
                    pixels.resize((side, side)).save(folder / f"{index:05d}.png")
        describe(root, name=f"small{side}", kind="image_folder")
        argvs.append(
            [
                "study",
                "mnist_v5",
                "--dataset",
                f"small{side}",
                "--dataset-dir",
                str(root),
                "--epochs",
                "1",
                "--out",
                str(tmp_path / "out"),
                "--quiet",
            ]
        )
    for side, result in zip((8, 16), tinyconv_commands(*argvs), strict=True):
        assert_one_line_error(
            result, "recipe mnist_v5", "needs images of at least 18x18 pixels",
            f"images are {side}x{side}",
        )  # fmt: skip
    assert not (tmp_path / "out").exists()


@pytest.mark.mnist
def test_one_colour_file_among_grayscale_pngs_is_named_not_converted(
    mnist_train: ImageDataset, mnist_test: ImageDataset, tmp_path: Path
) -> None:
    root = write_digits(tmp_path / "digits", mnist_train, mnist_test, per_class=10)
    odd = next((root / "train" / "3").iterdir())
    Image.open(odd).convert("RGB").save(odd)  # one RGB file among 100 grayscale ones
    describe(root, name="mixed", kind="image_folder")
    argv = ["summary", "mnist_v5", "--dataset", "mixed", "--dataset-dir", str(root)]
    result = tinyconv_command(*argv)
    assert_one_line_error(
        (result.returncode, result.stderr),
        "the train images mix grayscale and colour: 1 colour file(s) among 99 grayscale",
        str(odd),
        '"channels": 1 (grayscale) or 3 (RGB)',
    )
    # the same folder described with "channels": 1 reads as one channel
    describe(root, name="mixed", kind="image_folder", channels=1)
    converted = tinyconv_command(*argv)
    assert converted.returncode == 0, converted.stderr
    assert "Input: 1x28x28" in converted.stdout
