"""Distillation on the training engine: weight 0 trains bit for bit as without a teacher, the
term is the temperature-scaled KL divergence, and an unfit teacher is refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyconv as tc
from tinyconv.compress import (
    DistillationSpec,
    Distiller,
    TeacherError,
    distillation_callback,
    distillation_loss,
)
from tinyconv.data import ImageDataset, Rotation, TensorLoader
from tinyconv.data.augment_specs import make_augmentation
from tinyconv.errors import SpecError
from tinyconv.recipes import RECIPES
from tinyconv.specs import ConvSpec, GAPHeadSpec, SESpec, TransitionSpec
from tinyconv.train import TrainConfig, fit

STUDENT = (
    ConvSpec(out_channels=4, dropout=0.1),
    TransitionSpec(out_channels=4),
    ConvSpec(out_channels=6, dropout=0.1),
    SESpec(rd_channels=2),
    GAPHeadSpec(num_classes=10),
)
TEACHER = (ConvSpec(out_channels=8), TransitionSpec(out_channels=8), GAPHeadSpec(num_classes=10))


def on_mnist(specs: tuple, seed: int, dataset: str = "mnist") -> tc.TinyNet:
    """A model that knows its dataset, classes and normalisation, as a recipe builds it."""
    recipe = dataclasses.replace(RECIPES["mnist_v5"], specs=specs, dataset=dataset)
    return recipe.build_model(seed=seed)


def nine_class_teacher() -> tc.TinyNet:
    """A teacher for MNIST's inputs that predicts 9 classes."""
    model = tc.build((*TEACHER[:-1], GAPHeadSpec(num_classes=9)), seed=1)
    model.dataset, model.normalization = "mnist", on_mnist(TEACHER, 1).normalization
    return model


def teacher_file(tmp_path: Path, model: tc.TinyNet, name: str = "teacher.pt") -> Path:
    model.eval()
    for module in model.modules():  # a teacher is a trained model: statistics not the defaults
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_var.fill_(0.5)
    return tc.save(model, tmp_path / name)


def train(student: tc.TinyNet, data: ImageDataset, callbacks: list) -> list[float]:
    loader = TensorLoader(data, 64, shuffle=True, seed=3,
                          augment=make_augmentation((Rotation(degrees=10.0),)))  # fmt: skip
    config = TrainConfig(epochs=2, batch_size=64, lr=0.05, seed=3, device="cpu", progress=False)
    history = fit(student, loader, config, callbacks=callbacks)
    return [record.train_loss for record in history]


@pytest.mark.mnist
def test_weight_zero_trains_bit_for_bit_as_without_a_teacher(
    mnist_train: ImageDataset, tmp_path: Path
) -> None:
    data = mnist_train.subset(range(640))
    path = teacher_file(tmp_path, on_mnist(TEACHER, seed=1))
    plain = on_mnist(STUDENT, seed=0)
    plain_losses = train(plain, data, [])
    silent = on_mnist(STUDENT, seed=0)
    callback = distillation_callback(DistillationSpec(teacher=str(path), weight=0.0), silent)
    silent_losses = train(silent, data, [callback])
    assert silent_losses == plain_losses
    plain_state = plain.state_dict()
    assert all(torch.equal(v, plain_state[k]) for k, v in silent.state_dict().items())
    # ... and the term is live: a positive weight trains other weights.
    taught = on_mnist(STUDENT, seed=0)
    callback = distillation_callback(DistillationSpec(teacher=str(path), weight=1.0), taught)
    train(taught, data, [callback])
    assert not torch.equal(taught.conv1.conv.weight, plain.conv1.conv.weight)
    assert not callback.teacher.training
    assert torch.equal(callback.teacher.conv1.conv.weight, tc.load(path).conv1.conv.weight)


@settings(max_examples=25, deadline=None)
@given(
    temperature=st.floats(0.5, 8.0),
    weight=st.floats(0.0, 3.0),
    seed=st.integers(0, 2**16),
)
def test_term_is_weight_t_squared_kl_of_soft_targets(
    temperature: float, weight: float, seed: int
) -> None:
    generator = torch.Generator().manual_seed(seed)
    student = torch.randn(5, 7, generator=generator, dtype=torch.float64)
    teacher = torch.randn(5, 7, generator=generator, dtype=torch.float64)
    p_teacher = F.softmax(teacher / temperature, dim=1)
    p_student = F.softmax(student / temperature, dim=1)
    by_hand = (p_teacher * (p_teacher.log() - p_student.log())).sum(1).mean()
    expected = weight * temperature**2 * by_hand
    callback = Distiller(torch.nn.Identity(), weight, temperature)
    batch = tc.train.Batch(1, 1, teacher, torch.zeros(5), student, torch.nn.Identity(),
                           TrainConfig())  # fmt: skip
    torch.testing.assert_close(callback.loss_term(batch), expected)
    assert float(distillation_loss(student, student, temperature)) == pytest.approx(0, abs=1e-12)


def test_gradient_reaches_the_student_only() -> None:
    teacher = on_mnist(TEACHER, seed=1).eval()
    student = on_mnist(STUDENT, seed=0)
    x = torch.randn(4, 1, 28, 28)
    logits = student(x)
    term = Distiller(teacher, 1.0, 4.0).loss_term(
        tc.train.Batch(1, 1, x, torch.zeros(4), logits, student, TrainConfig())
    )
    term.backward()
    assert student.head.classifier.weight.grad is not None
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())


@pytest.mark.parametrize(
    ("teacher", "message"),
    [
        (nine_class_teacher, "class count 9"),
        (lambda: on_mnist(TEACHER, 1, dataset="fashion_mnist"), "dataset 'fashion_mnist'"),
    ],
    ids=["class-count", "dataset"],
)
def test_a_teacher_of_other_classes_or_dataset_is_refused(
    tmp_path: Path, teacher: object, message: str
) -> None:
    model = teacher()  # type: ignore[operator]
    path = teacher_file(tmp_path, model)
    with pytest.raises(TeacherError, match=message):
        distillation_callback(DistillationSpec(teacher=str(path)), on_mnist(STUDENT, 0))


def test_a_teacher_normalised_otherwise_or_of_unknown_data_is_refused(tmp_path: Path) -> None:
    other = on_mnist(TEACHER, 1)
    other.normalization = {"mean": [0.5], "std": [0.5]}
    path = teacher_file(tmp_path, other, "other.pt")
    with pytest.raises(TeacherError, match="normalisation"):
        distillation_callback(DistillationSpec(teacher=str(path)), on_mnist(STUDENT, 0))
    unknown = tc.build(TEACHER, seed=1)
    path = teacher_file(tmp_path, unknown, "unknown.pt")
    with pytest.raises(TeacherError, match="does not record its dataset"):
        distillation_callback(DistillationSpec(teacher=str(path)), on_mnist(STUDENT, 0))


def test_spec_round_trip_and_bad_values() -> None:
    spec = DistillationSpec(teacher="t.pt", weight=0.7, temperature=3.0)
    assert DistillationSpec.from_dict(spec.to_dict()) == spec
    assert DistillationSpec.from_dict({"teacher": "t.pt"}) == DistillationSpec(teacher="t.pt")
    with pytest.raises(SpecError, match="weight must be a finite number >= 0"):
        DistillationSpec(teacher="t.pt", weight=-1.0)
    with pytest.raises(SpecError, match="unknown keys"):
        DistillationSpec.from_dict({"teacher": "t.pt", "temp": 2})
    with pytest.raises(SpecError, match="version 2"):
        DistillationSpec.from_dict({"teacher": "t.pt", "version": 2})
