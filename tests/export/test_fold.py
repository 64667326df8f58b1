"""BatchNorm folding: each exact case folds with identical argmax on real MNIST test images,
and a BatchNorm stays (with the reason) where folding would not be exact."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import tinyconv
from tinyconv import (
    ConvHeadSpec,
    ConvSpec,
    DepthwiseSeparableSpec,
    GAPHeadSpec,
    SESpec,
    TransitionSpec,
)
from tinyconv.data import ImageDataset
from tinyconv.errors import ModelGraphError
from tinyconv.export import fold_batchnorm

from .conftest import normalise


def real_statistics(
    model: tinyconv.TinyNet, train: ImageDataset, *, gamma: float | None = None
) -> tinyconv.TinyNet:
    """Give every BatchNorm the running statistics of 1,000 real images, and random affine
    weights (scale ``gamma`` on channel 0 when given), then switch to eval mode."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # cumulative average over the batches below
            with torch.no_grad():
                module.weight.copy_(0.5 + torch.rand(module.num_features, generator=generator))
                module.bias.copy_(torch.randn(module.num_features, generator=generator))
                if gamma is not None:
                    module.weight[0] = gamma
    model.train()
    with torch.no_grad():
        for start in range(0, 1000, 250):
            model(normalise(train, 1000)[start : start + 250])
    return model.eval()


def assert_same_function(
    model: nn.Module, folded: nn.Module, images: torch.Tensor, atol: float = 1e-4
) -> float:
    with torch.no_grad():
        expected, got = model(images), folded(images)
    diff = float((expected - got).abs().max())
    scale = max(1.0, float(expected.abs().max()))
    assert diff <= atol * scale, (diff, scale)
    assert torch.equal(expected.argmax(1), got.argmax(1))
    return diff


def decisions(report: object) -> list[tuple[str, str | None]]:
    return [(d.norm, d.into) for d in report.decisions]  # type: ignore[attr-defined]


def test_trained_v5_folds_four_and_keeps_the_one_before_se(
    trained_v5: tinyconv.TinyNet, test_images: tuple[torch.Tensor, torch.Tensor]
) -> None:
    state = {k: v.clone() for k, v in trained_v5.state_dict().items()}
    folded, report = fold_batchnorm(trained_v5)
    assert decisions(report) == [
        ("conv1.norm", "conv2.conv"),
        ("conv2.norm", "trans1.conv.conv"),  # through the max-pool: every scale positive
        ("conv3.norm", "conv4.conv"),
        ("conv4.norm", "conv5.conv"),
        ("conv5.norm", None),
    ]
    (kept,) = report.kept
    assert "se1 (SqueezeExcite)" in kept.reason and "2 operations" in kept.reason
    assert "max-pool" in report.decisions[1].reason
    diff = assert_same_function(trained_v5, folded, test_images[0])
    assert diff < 1e-4
    # the input model is untouched: same weights, BatchNorms still there
    for key, value in trained_v5.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert isinstance(trained_v5.conv1.norm, nn.BatchNorm2d)
    assert isinstance(folded.conv1.norm, nn.Identity) and not folded.training
    assert isinstance(folded.conv5.norm, nn.BatchNorm2d)
    assert tinyconv.count_parameters(folded) == tinyconv.count_parameters(trained_v5) - 2 * (
        8 + 12 + 12 + 16
    ) + (12 + 8 + 16 + 16)  # BN affine gone, a bias gained by each absorbing conv


CASES = {
    "conv-norm-act order folds backward; transition conv-pool; linear head": (
        (
            ConvSpec(out_channels=6, order="conv-norm-act-drop", dropout=0.1),
            TransitionSpec(out_channels=6, order="conv-pool", norm=True, activation="relu"),
            ConvSpec(out_channels=8),
            GAPHeadSpec(num_classes=10, use_conv=False),
        ),
        None,
        [
            ("conv1.norm", "conv1.conv"),
            ("trans1.conv.norm", "conv2.conv"),
            ("conv2.norm", "head.classifier"),
        ],
    ),
    "zero padding keeps the BN; conv head; conv-pool head": (
        (
            ConvSpec(out_channels=6),
            ConvSpec(out_channels=6, padding=1),
            TransitionSpec(out_channels=6),
            ConvSpec(out_channels=8),
            ConvHeadSpec(num_classes=10),
        ),
        None,
        [
            ("conv1.norm", None),
            ("conv2.norm", "trans1.conv.conv"),
            ("conv3.norm", "head.classifier"),
        ],
    ),
    "depthwise-separable: each norm enters the next (grouped) convolution": (
        (
            ConvSpec(out_channels=4),
            DepthwiseSeparableSpec(out_channels=6, multiplier=2),
            TransitionSpec(out_channels=6),
            DepthwiseSeparableSpec(out_channels=8),
            DepthwiseSeparableSpec(out_channels=8, padding=1),
            GAPHeadSpec(num_classes=10),
        ),
        None,
        [
            ("conv1.norm", "sep1.depthwise.conv"),  # 4 channels, 2 filters each
            ("sep1.depthwise.norm", "sep1.pointwise.conv"),
            ("sep1.pointwise.norm", "trans1.conv.conv"),
            ("sep2.depthwise.norm", "sep2.pointwise.conv"),
            ("sep2.pointwise.norm", None),  # the next depthwise convolution pads
            ("sep3.depthwise.norm", "sep3.pointwise.conv"),
            ("sep3.pointwise.norm", "head.classifier"),
        ],
    ),
    "a negative scale before the max-pool keeps the BN": (
        (
            ConvSpec(out_channels=6),
            TransitionSpec(out_channels=6),
            ConvSpec(out_channels=8),
            GAPHeadSpec(num_classes=10, mode="conv-pool"),
        ),
        -0.7,
        [("conv1.norm", None), ("conv2.norm", "head.classifier")],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fold_cases_on_real_images(
    case: str, mnist_train: ImageDataset, test_images: tuple[torch.Tensor, torch.Tensor]
) -> None:
    specs, gamma, expected = CASES[case]
    model = real_statistics(tinyconv.build(specs, seed=1), mnist_train, gamma=gamma)
    folded, report = fold_batchnorm(model)
    assert decisions(report) == expected
    assert_same_function(model, folded, test_images[0])
    reasons = " ".join(d.reason for d in report.kept)
    if "padding" in case:
        assert "pads with zeros (padding (1, 1))" in reasons
    if "negative" in case:
        assert "channel 0 has scale -" in reasons and "positive scales" in reasons


def test_head_without_bias_gains_one_in_the_copy_only(mnist_train: ImageDataset) -> None:
    model = real_statistics(
        tinyconv.build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=3)], seed=0), mnist_train
    )
    folded, _ = fold_batchnorm(model)
    assert model.head.classifier.bias is None
    assert folded.head.classifier.bias is not None


def test_se_kept_message_and_str(mnist_train: ImageDataset) -> None:
    model = real_statistics(
        tinyconv.build(
            [ConvSpec(out_channels=4), SESpec(rd_channels=2), GAPHeadSpec(num_classes=3)]
        ),
        mnist_train,
    )
    _, report = fold_batchnorm(model)
    assert str(report).splitlines()[0] == "BatchNorm folding: 0 folded, 1 kept"
    assert report.to_dict()["kept"] == 1


def test_untraceable_model_is_a_clear_error() -> None:
    class Branchy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if x.sum() > 0 else -x  # data-dependent control flow

    with pytest.raises(ModelGraphError, match=r"cannot trace Branchy with torch\.fx"):
        fold_batchnorm(Branchy())
