from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyconv as tc
from tinyconv.data import ImageDataset, Predictions, score_images
from tinyconv.data.scoring import argmax_agreement, model_inputs, top1_accuracy


@settings(max_examples=15, deadline=None)
@given(count=st.integers(1, 30), batch=st.integers(1, 12), seed=st.integers(0, 1000))
def test_scoring_in_batches_equals_logits_of_all_images_at_once(count, batch, seed):
    """The one scoring function: what export computes from logits, the figures in batches."""
    model = tc.build(
        [tc.ConvSpec(out_channels=4, norm=False), tc.GAPHeadSpec(num_classes=3)],
        in_channels=3, input_size=(6, 6), seed=seed,
    ).eval()  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (count, 3, 6, 6), generator=generator, dtype=torch.uint8)
    labels = torch.randint(0, 3, (count,), generator=generator)
    data = ImageDataset(images, labels, "toy", ("a", "b", "c"), (0.3, 0.4, 0.5), (0.2, 0.2, 0.3))
    batched = score_images(model, data, batch_size=batch)
    with torch.no_grad():
        whole = Predictions.from_logits(model(model_inputs(model, data)), data)
    assert torch.equal(batched.predicted, whole.predicted)
    assert batched.accuracy == whole.accuracy
    torch.testing.assert_close(batched.probabilities, whole.probabilities)


def _small_int_logits(rows: int, classes: int):
    """Logits with many exact ties (small integers), where the tie rule matters."""
    return st.lists(
        st.lists(st.integers(-3, 3), min_size=classes, max_size=classes),
        min_size=rows,
        max_size=rows,
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data(), rows=st.integers(1, 20), classes=st.integers(2, 5))
def test_top1_accuracy_counts_labels_at_the_first_largest_logit(data, rows, classes):
    """One rule for every runtime: the prediction is the first index of the largest logit."""
    logits = data.draw(_small_int_logits(rows, classes))
    labels = data.draw(st.lists(st.integers(0, classes - 1), min_size=rows, max_size=rows + 3))
    right = 0
    for row, label in zip(logits, labels, strict=False):
        before, after = row[:label], row[label + 1 :]
        right += all(row[label] > x for x in before) and all(row[label] >= x for x in after)
    expected = right / rows
    as_numpy = np.array(logits, dtype=np.float32)
    assert top1_accuracy(as_numpy, np.array(labels)) == expected
    assert top1_accuracy(torch.tensor(logits).to(torch.int8), torch.tensor(labels)) == expected
    dataset = ImageDataset(
        torch.zeros(len(labels), 1, 2, 2, dtype=torch.uint8), torch.tensor(labels), "toy",
        tuple("abcde"[:classes]), 0.5, 0.25,
    )  # fmt: skip
    assert Predictions.from_logits(torch.from_numpy(as_numpy), dataset).accuracy == expected


def test_predictions_take_the_argmax_of_the_logits_where_their_softmax_ties() -> None:
    """Logits 1e-8 apart near zero: their float32 softmax is 0.5 and 0.5, their argmax is 1."""
    logits = torch.tensor([[0.0, 1e-8]])
    assert torch.equal(*torch.softmax(logits, dim=1)[0])  # the tie the old rule fell into
    dataset = ImageDataset(
        torch.zeros(1, 1, 2, 2, dtype=torch.uint8), torch.tensor([1]), "toy", ("a", "b"), 0.5, 0.25
    )
    assert Predictions.from_logits(logits, dataset).accuracy == 1.0
    assert top1_accuracy(logits, torch.tensor([1])) == 1.0


@settings(max_examples=60, deadline=None)
@given(data=st.data(), rows=st.integers(1, 20), classes=st.integers(2, 5))
def test_argmax_agreement_is_symmetric_and_scores_one_output_by_the_other(data, rows, classes):
    first = np.array(data.draw(_small_int_logits(rows, classes)), dtype=np.float32)
    second = np.array(data.draw(_small_int_logits(rows, classes)), dtype=np.float32)
    assert argmax_agreement(first, first) == 1.0
    assert argmax_agreement(first, second) == argmax_agreement(second, first)
    assert argmax_agreement(first, second) == top1_accuracy(first, second.argmax(1))
