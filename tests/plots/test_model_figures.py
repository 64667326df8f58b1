from __future__ import annotations

import pytest
import torch

import tinyconv as tc
from tinyconv.data import ImageDataset, load_dataset, score_images
from tinyconv.data.errors import DatasetMismatchError
from tinyconv.plots import (
    budget_figure,
    confusion_figure,
    misclassified_gallery,
    se_gate_means,
    se_gates_figure,
)

pytestmark = pytest.mark.mnist


def test_scores_agree_with_tinyconv_predict(
    tiny_model: tc.TinyNet, mnist_test_subset: ImageDataset
) -> None:
    predictions = score_images(tiny_model, mnist_test_subset)
    expected = tc.train.predict(
        tiny_model, mnist_test_subset.images, mean=mnist_test_subset.mean, std=mnist_test_subset.std
    )
    assert torch.equal(predictions.predicted, expected)
    assert 0.2 < predictions.accuracy < 1.0  # trained (chance is 0.1), and it makes mistakes
    assert torch.allclose(predictions.probabilities.sum(dim=1), torch.ones(2000), atol=1e-5)


def test_confusion_matrix_sums_to_the_images_scored(
    tiny_model: tc.TinyNet, mnist_test_subset: ImageDataset
) -> None:
    predictions = score_images(tiny_model, mnist_test_subset)
    fig = confusion_figure(predictions, model_name="tiny")
    counts_ax, shares_ax, per_class_ax = fig.axes[:3]
    assert counts_ax.images[0].get_gid() == "confusion:counts"
    assert sum(int(t.get_text()) for t in counts_ax.texts) == len(mnist_test_subset) == 2000
    diagonal = [
        int(t.get_text()) for t in counts_ax.texts if t.get_position()[0] == t.get_position()[1]
    ]
    correct = int((predictions.predicted == predictions.labels).sum())
    assert sum(diagonal) == correct
    # each true class's shares add up to 100 % (up to the one-decimal rounding shown)
    rows: dict[float, float] = {}
    for text in shares_ax.texts:
        row = text.get_position()[1]
        rows[row] = rows.get(row, 0.0) + float(text.get_text())
    assert all(abs(total - 100) < 0.6 for total in rows.values()) and len(rows) == 10
    dots = next(line for line in per_class_ax.lines if line.get_gid() == "per_class")
    labels = mnist_test_subset.labels
    for digit, value in enumerate(dots.get_xdata()):
        hits = (predictions.predicted[labels == digit] == digit).double().mean()
        assert value == pytest.approx(100 * float(hits))
    assert "2,000 images" in fig.get_suptitle()


def test_gallery_shows_only_wrong_predictions_most_confident_first(
    tiny_model: tc.TinyNet, mnist_test_subset: ImageDataset
) -> None:
    predictions = score_images(tiny_model, mnist_test_subset)
    fig = misclassified_gallery(predictions, mnist_test_subset, max_images=12, columns=6)
    shown = [int(ax.get_gid().split(":")[1]) for ax in fig.axes if ax.get_gid()]
    assert len(shown) == 12
    for index in shown:
        assert int(predictions.predicted[index]) != int(mnist_test_subset.labels[index])
    confidence = [float(predictions.confidence[i]) for i in shown]
    assert confidence == sorted(confidence, reverse=True)
    wrong = predictions.predicted != predictions.labels
    assert confidence[0] == pytest.approx(float(predictions.confidence[wrong].max()))
    first = next(ax for ax in fig.axes if ax.get_gid() == f"wrong:{shown[0]}")
    true, pred = int(mnist_test_subset.labels[shown[0]]), int(predictions.predicted[shown[0]])
    assert first.get_title().startswith(f"true {true} → pred {pred}\n")


def test_gallery_uses_class_names_for_fashion_mnist(tiny_model: tc.TinyNet, fashion_root) -> None:
    fashion = load_dataset("fashion_mnist", fashion_root, train=False).subset(range(500))
    with pytest.raises(DatasetMismatchError, match=r"trained on 'mnist'.*fashion_mnist"):
        score_images(tiny_model, fashion)
    tiny_model.dataset = None  # scored anyway, only to see the names on the tiles
    try:
        predictions = score_images(tiny_model, fashion)
    finally:
        tiny_model.dataset = "mnist"
    fig = misclassified_gallery(predictions, fashion, max_images=4)
    titles = [ax.get_title() for ax in fig.axes if ax.get_gid()]
    assert titles and all(
        line.removeprefix("true ").removeprefix("pred ") in fashion.class_names
        for title in titles
        for line in title.splitlines()[:2]
    )


def test_budget_figure_shows_summary_rows_and_the_budget(tiny_model: tc.TinyNet) -> None:
    table = tc.summary(tiny_model)
    fig = budget_figure(tiny_model, budget=8000, model_name="tiny")
    param_ax, mac_ax, rf_ax = fig.axes
    widths = [p.get_width() for p in param_ax.patches if p.get_gid() == "params"]
    assert widths == [row.params for row in table.rows]
    assert sum(widths) == tc.count_parameters(tiny_model)
    total = next(line for line in param_ax.lines if line.get_gid() == "cumulative")
    assert list(total.get_xdata())[-1] == tc.count_parameters(tiny_model)
    budget = next(line for line in param_ax.lines if line.get_gid() == "budget")
    assert budget.get_xdata()[0] == 8000
    assert [1000 * p.get_width() for p in mac_ax.patches] == pytest.approx(
        [row.macs for row in table.rows]
    )
    fields = [p.get_width() for p in rf_ax.patches]
    assert fields == [
        28 if row.receptive_field == "global" else row.receptive_field for row in table.rows
    ]
    assert param_ax.get_yticklabels()[0].get_text() == "conv1 (ConvBlock)"


def test_se_gates_are_class_means_of_the_blocks_own_gates(
    tiny_model: tc.TinyNet, mnist_test_subset: ImageDataset
) -> None:
    means = se_gate_means(tiny_model, mnist_test_subset)
    assert list(means) == ["se1"] and means["se1"].shape == (10, 12)
    # recompute class 3's mean gate by hand, through the block's own gates()
    se = tiny_model.se1
    images = mnist_test_subset.images[mnist_test_subset.labels == 3].float() / 255
    x = (images - mnist_test_subset.mean[0]) / mnist_test_subset.std[0]
    with torch.no_grad():
        features = x
        for name, block in tiny_model.named_children():
            if name == "se1":
                break
            features = block(features)
        expected = se.gates(features).mean(dim=0)
    assert torch.allclose(means["se1"][3], expected, atol=1e-5)
    fig = se_gates_figure(means, mnist_test_subset.class_names, model_name="tiny")
    image = fig.axes[0].images[0]
    assert image.get_gid() == "gates:se1"
    assert torch.allclose(torch.as_tensor(image.get_array().data), means["se1"])
    assert "true class" in fig.axes[0].get_ylabel()


def test_se_gates_need_an_se_block(mnist_test_subset: ImageDataset) -> None:
    plain = tc.build([tc.ConvSpec(out_channels=4), tc.GAPHeadSpec(num_classes=10)], seed=0)
    with pytest.raises(ValueError, match="no SqueezeExcite block"):
        se_gate_means(plain, mnist_test_subset)
