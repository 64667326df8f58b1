import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tinyconv.train import EvalResult, evaluate, predict

from .helpers import make_loader, make_model


class FixedLogits(nn.Module):
    """Returns the logits stored in the input's first ``classes`` features."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.grad_enabled: list[bool] = []

    def forward(self, x):
        self.grad_enabled.append(torch.is_grad_enabled())
        return x * self.scale


def one_hot_logits(predictions: list[int], classes: int) -> torch.Tensor:
    return nn.functional.one_hot(torch.tensor(predictions), classes).float() * 10.0


def test_per_class_accuracy_on_a_hand_made_case():
    # labels    0 0 0 1 1 2 2 2   (class 3 never occurs)
    # predicted 0 0 1 1 0 2 2 3
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
    logits = one_hot_logits([0, 0, 1, 1, 0, 2, 2, 3], classes=4)
    loader = [(logits[:5], labels[:5]), (logits[5:], labels[5:])]
    result = evaluate(FixedLogits(), loader)
    assert result.num_samples == 8
    assert result.accuracy == 5 / 8
    assert result.per_class_accuracy[:3] == [2 / 3, 1 / 2, 2 / 3]
    assert math.isnan(result.per_class_accuracy[3])
    expected_loss = nn.functional.cross_entropy(logits, labels).item()
    assert result.loss == pytest.approx(expected_loss, rel=1e-6)


@pytest.mark.parametrize("was_training", [True, False])
def test_runs_without_grad_in_eval_mode_and_restores_the_mode(was_training):
    model = FixedLogits()
    dropout = nn.Dropout(0.5)
    wrapped = nn.Sequential(dropout, model)
    wrapped.train(was_training)
    x = torch.ones(64, 2)
    result = evaluate(wrapped, [(x, torch.zeros(64, dtype=torch.long))])
    assert result.accuracy == 1.0  # dropout off: every logit pair is (1, 1) -> class 0
    assert model.grad_enabled == [False]
    assert wrapped.training is was_training and dropout.training is was_training
    assert model.scale.grad is None


def test_dropout_is_off_during_evaluation():
    model = nn.Sequential(nn.Dropout(0.9), nn.Linear(8, 2))
    model.train()
    x, y = torch.randn(32, 8), torch.zeros(32, dtype=torch.long)
    first = evaluate(model, [(x, y)])
    assert evaluate(model, [(x, y)]) == first


def test_num_classes_must_match_the_logits():
    with pytest.raises(ValueError, match="num_classes is 5 but the model outputs 3 logits"):
        evaluate(
            FixedLogits(), [(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))], num_classes=5
        )


def test_labels_outside_the_classes_are_refused():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got min 0, max 3"):
        evaluate(FixedLogits(), [(torch.zeros(2, 3), torch.tensor([0, 3]))])


def test_a_negative_label_in_a_later_batch_is_refused():
    batches = [
        (torch.zeros(2, 3), torch.tensor([0, 1])),
        (torch.zeros(2, 3), torch.tensor([2, -1])),
    ]
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\), got min -1, max 2"):
        evaluate(FixedLogits(), batches)


class Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 9), min_size=1, max_size=5).filter(any),
    classes=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
)
def test_scores_equal_the_scores_of_all_batches_at_once(sizes, classes, seed):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(sum(sizes), classes, generator=generator)
    labels = torch.randint(0, classes, (sum(sizes),), generator=generator)
    batches = list(zip(logits.split(sizes), labels.split(sizes), strict=True))
    result = evaluate(Identity(), batches)
    hits = logits.argmax(dim=1) == labels
    assert result.num_samples == len(labels)
    assert result.accuracy == hits.sum().item() / len(labels)
    expected_loss = F.cross_entropy(logits.double(), labels, reduction="sum").item() / len(labels)
    assert result.loss == pytest.approx(expected_loss, rel=1e-6, abs=1e-9)
    for label, accuracy in enumerate(result.per_class_accuracy):
        mine = labels == label
        if mine.any():
            assert accuracy == hits[mine].sum().item() / mine.sum().item()
        else:
            assert math.isnan(accuracy)


def test_empty_loader_is_refused():
    with pytest.raises(ValueError, match="evaluate got no samples"):
        evaluate(FixedLogits(), [])


def test_result_fields():
    result = EvalResult(loss=0.1, accuracy=0.9, per_class_accuracy=[0.9], num_samples=10)
    assert result.num_samples == 10


class CentreBrightness(nn.Module):
    """Class 1 if the mean normalised pixel is above zero, else class 0."""

    def forward(self, x):
        score = x.mean(dim=(1, 2, 3))
        return torch.stack([-score, score], dim=1)


def test_predict_scales_and_normalises_raw_uint8_images():
    images = torch.tensor([0, 100, 200, 255], dtype=torch.uint8).view(4, 1, 1, 1).expand(4, 1, 5, 5)
    # (x/255 - 0.5) / 0.25 > 0 exactly for pixels above 127.5
    predicted = predict(CentreBrightness(), images, mean=0.5, std=0.25)
    assert predicted.tolist() == [0, 0, 1, 1]
    assert predicted.dtype == torch.long and predicted.device.type == "cpu"


def test_predict_accepts_nhw_and_float_images_and_any_batch_size():
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (50, 7, 7), dtype=torch.uint8, generator=generator)
    model = CentreBrightness()
    expected = predict(model, images.unsqueeze(1), mean=0.5, std=0.3)
    assert torch.equal(predict(model, images, mean=0.5, std=0.3), expected)
    assert torch.equal(predict(model, images.float() / 255, mean=0.5, std=0.3), expected)
    assert torch.equal(predict(model, images, mean=0.5, std=0.3, batch_size=7), expected)
    assert predict(model, images[:0], mean=0.5, std=0.3).shape == (0,)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (
            torch.full((2, 1, 4, 4), -0.4),
            r"float images must lie in \[0, 1\], got values in \[-0.4",
        ),
        (torch.zeros(2, 4, dtype=torch.uint8), r"\[N, C, H, W\] or \[N, H, W\], got \(2, 4\)"),
        (torch.zeros(2, 4, 4, dtype=torch.int64), "must be uint8 or floating point"),
    ],
)
def test_predict_refuses_bad_images(images, message):
    with pytest.raises(ValueError, match=message):
        predict(CentreBrightness(), images, mean=0.1, std=0.3)


def test_predict_refuses_bad_std_and_batch_size():
    images = torch.zeros(2, 4, 4, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"std must be > 0, got 0\.0"):
        predict(CentreBrightness(), images, mean=0.1, std=0.0)
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        predict(CentreBrightness(), images, mean=0.1, std=0.3, batch_size=0)


def test_evaluate_and_predict_restore_each_modules_own_mode():
    model = make_model()
    model.train()
    model[2].eval()  # a frozen layer inside a model in training mode
    evaluate(model, make_loader())
    assert model.training and not model[2].training
    predict(model, torch.rand(4, 1, 6, 6), mean=0.0, std=1.0)
    assert model.training and not model[2].training
