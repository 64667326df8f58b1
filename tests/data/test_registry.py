from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from own_data import describe, write_colour_patches

import tinyconv as tc
from tinyconv.data import (
    ArraySource,
    DatasetNotFoundError,
    TorchvisionSource,
    dataset_info,
    load_dataset,
    model_dataset,
    register_dataset,
    register_dataset_folder,
    registry,
)
from tinyconv.data.errors import DatasetFormatError, DatasetRegistryError
from tinyconv.data.registry import DATASETS_ENV_VAR
from tinyconv.recipe import Recipe
from tinyconv.train import TrainConfig

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-ins only and no TINYCONV_DATASETS, restored after each test."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._BUILTINS))
    monkeypatch.setattr(registry, "_ENV_FOLDERS_SEEN", set())
    monkeypatch.delenv(DATASETS_ENV_VAR, raising=False)


def rgb_arrays(count: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, 3, 8, 8), generator=generator, dtype=torch.uint8)
    images[:, 2] //= 3  # channels with different statistics
    return images, torch.arange(count) % 4


def test_facts_left_out_are_read_from_the_training_split() -> None:
    images, labels = rgb_arrays()
    register_dataset("rgb", ArraySource(train=(images, labels), test=(images[:8], labels[:8])))
    info = dataset_info("rgb")
    assert info.image_shape == (3, 8, 8) and info.class_names == ("0", "1", "2", "3")
    assert info.splits == ("train", "test") and info.target_accuracy is None
    pixels = images.double() / 255
    for channel in range(3):  # per-channel statistics equal a direct computation
        assert info.mean[channel] == pytest.approx(pixels[:, channel].mean().item(), rel=1e-12)
        assert info.std[channel] == pytest.approx(
            pixels[:, channel].std(correction=0).item(), rel=1e-9
        )
    test = load_dataset("rgb", train=False)
    assert test.mean == info.mean and test.class_names == info.class_names and len(test) == 8


def test_given_facts_are_kept_and_checked() -> None:
    images, labels = rgb_arrays()
    register_dataset(
        "named",
        ArraySource(train=(images, labels)),
        class_names=["a", "b", "c", "d"],
        mean=0.5,
        std=0.25,
        target_accuracy=0.9,
        display_name="Named",
    )
    info = dataset_info("named")
    assert (info.mean, info.std) == ((0.5,) * 3, (0.25,) * 3)
    assert (info.class_names, info.target_accuracy, info.display_name) == (
        ("a", "b", "c", "d"), 0.9, "Named"
    )  # fmt: skip
    register_dataset("wrong_shape", ArraySource(train=(images, labels)), image_shape=(1, 8, 8))
    with pytest.raises(DatasetFormatError, match=r"registered with image_shape \(1, 8, 8\)"):
        dataset_info("wrong_shape")


def test_a_recipe_builds_its_model_for_the_registered_images() -> None:
    images, labels = rgb_arrays()
    register_dataset("rgb", ArraySource(train=(images, labels)))
    recipe = Recipe(
        name="rgb_tiny",
        dataset="rgb",
        specs=(tc.ConvSpec(out_channels=4), tc.GAPHeadSpec(num_classes=4)),
        train=TrainConfig(epochs=1),
    )
    model = recipe.build_model(seed=0)
    assert (model.in_channels, model.input_size) == (3, (8, 8))
    assert model.normalization == dataset_info("rgb").normalization
    assert model.class_names == ("0", "1", "2", "3") and model.dataset == "rgb"


def test_a_built_in_name_cannot_be_taken(tmp_path: Path) -> None:
    images, labels = rgb_arrays()
    with pytest.raises(DatasetRegistryError, match="'mnist' is a built-in dataset"):
        register_dataset("mnist", ArraySource(train=(images, labels)))
    describe(write_colour_patches(tmp_path, 1, 0), name="fashion_mnist", kind="image_folder")
    with pytest.raises(DatasetRegistryError, match="'fashion_mnist' is a built-in dataset"):
        register_dataset_folder(tmp_path)


def test_a_taken_name_needs_replace_but_the_same_folder_registers_again(tmp_path: Path) -> None:
    images, labels = rgb_arrays()
    register_dataset("mine", ArraySource(train=(images, labels)))
    with pytest.raises(DatasetRegistryError, match="'mine' is already registered"):
        register_dataset("mine", ArraySource(train=(images, labels)))
    register_dataset("mine", ArraySource(train=(images[:4], labels[:4])), replace=True)
    assert len(load_dataset("mine")) == 4
    folder = describe(
        write_colour_patches(tmp_path / "p", 1, 1), name="patches", kind="image_folder"
    )
    assert register_dataset_folder(folder) == register_dataset_folder(folder) == "patches"
    other = describe(
        write_colour_patches(tmp_path / "q", 1, 1), name="patches", kind="image_folder"
    )
    with pytest.raises(DatasetRegistryError, match=r"already registered from .*p"):
        register_dataset_folder(other)


def test_unknown_names_list_the_known_ones_and_the_way_to_register() -> None:
    with pytest.raises(DatasetRegistryError, match=r"known datasets: mnist, fashion_mnist \("):
        load_dataset("fashion")
    with pytest.raises(DatasetRegistryError, match="--dataset-dir PATH"):
        dataset_info("cifar10")


def test_save_refuses_a_dataset_name_nobody_registered(tmp_path: Path) -> None:
    model = tc.build([tc.ConvSpec(out_channels=4), tc.GAPHeadSpec(num_classes=10)], seed=0)
    with pytest.raises(DatasetRegistryError, match="unknown dataset 'fashion'"):
        tc.save(model, tmp_path / "m.pt", dataset="fashion")
    assert not (tmp_path / "m.pt").exists()
    tc.save(model, tmp_path / "m.pt", dataset="fashion_mnist")
    assert tc.load(tmp_path / "m.pt").dataset == "fashion_mnist"


def test_a_model_without_a_dataset_is_never_given_one() -> None:
    model = tc.build([tc.ConvSpec(out_channels=4), tc.GAPHeadSpec(num_classes=10)], seed=0)
    with pytest.raises(
        DatasetRegistryError, match=r"m\.pt records no dataset; pass --dataset NAME"
    ):
        model_dataset(model, label="m.pt")
    assert model_dataset(model, "fashion_mnist").name == "fashion_mnist"
    model.dataset = "mnist"
    assert model_dataset(model).name == "mnist"


def test_a_dataset_without_a_test_split_says_so() -> None:
    images, labels = rgb_arrays()
    register_dataset("train_only", ArraySource(train=(images, labels)))
    assert dataset_info("train_only").splits == ("train",)
    with pytest.raises(DatasetNotFoundError, match="'train_only' has no test split"):
        load_dataset("train_only", train=False)
    with pytest.raises(DatasetRegistryError, match="downloads only the built-in"):
        load_dataset("train_only", download=True)


def test_test_labels_outside_the_training_classes_are_refused() -> None:
    images, labels = rgb_arrays()
    register_dataset("skewed", ArraySource(train=(images, labels), test=(images[:2], [0, 7])))
    with pytest.raises(DatasetFormatError, match="a test label is 7 but there are 4 classes"):
        load_dataset("skewed", train=False)


def test_a_description_folder_registers_arrays_relative_to_it(tmp_path: Path) -> None:
    images, labels = rgb_arrays()
    np.savez(tmp_path / "tr.npz", images=images.numpy(), labels=labels.numpy())
    describe(
        tmp_path, name="arr", kind="arrays", train="tr.npz", test=None, class_names=list("wxyz")
    )
    assert register_dataset_folder(tmp_path / "tinyconv-dataset.json") == "arr"
    assert torch.equal(load_dataset("arr").images, images)
    assert dataset_info("arr").class_names == ("w", "x", "y", "z")
    assert str(tmp_path) in os.environ[DATASETS_ENV_VAR].split(os.pathsep)


@pytest.mark.parametrize(
    ("facts", "match"),
    [
        (
            {"name": "x", "kind": "folders"},
            "'kind' must be one of arrays, image_folder, torchvision",
        ),
        ({"name": "x", "kind": "arrays", "colour": 1}, r"unknown keys \['colour'\]"),
        ({"kind": "image_folder"}, "no 'name'"),
        ({"name": "x", "kind": "torchvision"}, "needs 'dataset_class'"),
        ({"name": "x", "kind": "arrays", "mean": [0.5]}, "give both mean and std"),
    ],
)
def test_malformed_descriptions_are_one_clear_error(tmp_path: Path, facts, match) -> None:
    with pytest.raises(DatasetFormatError, match=match):
        register_dataset_folder(describe(tmp_path, **facts))


def test_a_folder_without_a_description_or_with_bad_json(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"no tinyconv-dataset\.json in"):
        register_dataset_folder(tmp_path)
    (tmp_path / "tinyconv-dataset.json").write_text("{name: x}")
    with pytest.raises(DatasetFormatError, match="is not valid JSON"):
        register_dataset_folder(tmp_path)


def test_worker_processes_see_folders_through_the_environment(tmp_path: Path) -> None:
    folder = describe(write_colour_patches(tmp_path, 2, 1), name="patches", kind="image_folder")
    code = (
        "import sys, tinyconv.data as d\n"
        "print('torchvision' in sys.modules, d.dataset_names())\n"
        "print(d.dataset_info('patches').image_shape, len(d.load_dataset('patches', train=False)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, DATASETS_ENV_VAR: str(folder)},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "False ('mnist', 'fashion_mnist', 'patches')"  # and no torchvision
    assert lines[1] == "(3, 32, 32) 4"


@pytest.mark.mnist
def test_a_torchvision_class_reads_files_on_disk_like_the_built_in(fashion_root: Path) -> None:
    register_dataset("fashion_tv", TorchvisionSource("FashionMNIST", fashion_root))
    ours = load_dataset("fashion_mnist", fashion_root, train=False)
    theirs = load_dataset("fashion_tv", train=False)
    assert torch.equal(ours.images, theirs.images) and torch.equal(ours.labels, theirs.labels)
    assert theirs.class_names == ours.class_names
    assert dataset_info("fashion_tv").mean[0] == pytest.approx(0.2860, abs=5e-5)


def test_a_torchvision_dataset_not_on_disk_names_the_command(tmp_path: Path) -> None:
    source = TorchvisionSource("CIFAR10", tmp_path)
    with pytest.raises(
        DatasetNotFoundError, match=r"torchvision.datasets.CIFAR10\('.*', download=True\)"
    ):
        source.read("train")
    with pytest.raises(DatasetFormatError, match="has no dataset class 'CIFAR11'"):
        TorchvisionSource("CIFAR11", tmp_path).read("train")


def test_the_description_module_documents_every_key() -> None:
    from tinyconv.data import description

    keys = description._COMMON | set().union(*description._KINDS.values())
    text = description.__doc__ or ""
    missing = sorted(key for key in keys - {"version"} if f"``{key}``" not in text)
    assert not missing, missing
    assert json.loads(json.dumps(sorted(keys)))
