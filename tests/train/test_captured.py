"""The captured training step (``TrainConfig(capture=True)``).

On the CPU nothing is recorded, and the captured step's logic (the learning rate as a
device tensor filled by torch's scheduler, the sums and step counter on the device, the
eager fallback) must train bit for bit as the default loop. On a CUDA device the graph is
recorded and replayed: the weights agree with the eager loop to float noise.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

import tinyconv
from tinyconv.data import ImageDataset
from tinyconv.recipes import get_recipe
from tinyconv.train import TrainConfig, fit
from tinyconv.train.callbacks import Callback

CUDA = torch.cuda.is_available()


def captured(recipe: tinyconv.Recipe, device: str = "cpu") -> tinyconv.Recipe:
    train = dataclasses.replace(recipe.train, capture=True, device=device)
    return dataclasses.replace(recipe, train=train)


def train(recipe: tinyconv.Recipe, seeds: list[int], data: tuple[ImageDataset, ImageDataset],
          device: str = "cpu", **kwargs: object) -> list[tinyconv.TrainedSeed]:  # fmt: skip
    return tinyconv.train_recipe(recipe, seeds, *data, device=device, progress=False, **kwargs)


@pytest.fixture(scope="module")
def small(mnist_train: ImageDataset, mnist_test: ImageDataset) -> tuple[ImageDataset, ...]:
    return mnist_train.subset(range(700)), mnist_test.subset(range(300))  # 700 = 5 x 128 + 60


@pytest.mark.mnist
@pytest.mark.parametrize("name", ["mnist_v5", "mnist_v5_onecycle"])  # StepLR, OneCycle
def test_on_the_cpu_the_captured_step_trains_bit_for_bit_as_the_default_loop(
    name: str, small: tuple[ImageDataset, ImageDataset]
) -> None:
    recipe = get_recipe(name).with_epochs(2)
    eager, capture = train(recipe, [0], small), train(captured(recipe), [0], small)
    for one, other in zip(eager, capture, strict=True):
        for key, value in one.model.state_dict().items():
            assert torch.equal(value, other.model.state_dict()[key]), key
        keep = ("train_loss", "train_acc", "eval_loss", "eval_acc", "lr")
        assert [{k: r[k] for k in keep} for r in one.history.to_list()] == [
            {k: r[k] for k in keep} for r in other.history.to_list()
        ]


@pytest.mark.mnist
def test_a_captured_runs_checkpoint_resumes_without_capture_to_the_unbroken_result(
    small: tuple[ImageDataset, ImageDataset], tmp_path: Path
) -> None:
    recipe = get_recipe("mnist_v5")  # StepLR: the epoch count may change on resume
    checkpoint = tmp_path / "run.ckpt"
    train(captured(recipe.with_epochs(1)), [0], small, checkpoint_path=checkpoint)
    (resumed,) = train(recipe.with_epochs(2), [0], small, checkpoint_path=checkpoint)
    (unbroken,) = train(recipe.with_epochs(2), [0], small)
    assert resumed.resumed_after_epoch == 1
    for key, value in unbroken.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_capture_is_refused_where_it_cannot_record_the_step() -> None:
    with pytest.raises(ValueError, match=r"optimizer='sgd' without compile; got optimizer='adam'"):
        TrainConfig(capture=True, optimizer="adam")
    with pytest.raises(ValueError, match=r"got optimizer='sgd', compile=True"):
        TrainConfig(capture=True, compile=True)
    model = torch.nn.Linear(3, 2)
    data = [(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))]

    class Loader(list):  # a list with a length: any loader will do
        batch_size = 4

    config = TrainConfig(epochs=1, batch_size=4, capture=True, device="cpu", progress=False)
    with pytest.raises(ValueError, match="callbacks run Python in every step"):
        fit(model, Loader(data), config, callbacks=[Callback()])


def test_stacked_seeds_are_refused_a_captured_step(small: tuple[ImageDataset, ...]) -> None:
    # each seed's random state is swapped in inside the step: a graph would not replay it
    with pytest.raises(ValueError, match="stacked seeds swap each seed's random state"):
        train(captured(get_recipe("mnist_v5").with_epochs(1)), [0, 1], small)


@pytest.mark.mnist
@pytest.mark.skipif(not CUDA, reason="records a CUDA graph: needs a CUDA device")
def test_on_a_gpu_the_replayed_graph_trains_as_the_eager_loop_to_float_noise(
    small: tuple[ImageDataset, ImageDataset],
) -> None:
    recipe = get_recipe("mnist_v5_onecycle").with_epochs(2)
    (eager,) = train(recipe, [0], small, device="cuda")
    (capture,) = train(captured(recipe, "cuda"), [0], small, device="cuda")
    for key, value in eager.model.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(capture.model.state_dict()[key], value, rtol=1e-3, atol=1e-3)
    accuracies = [run.history.final.eval_acc for run in (eager, capture)]
    assert abs(accuracies[0] - accuracies[1]) <= 0.01
