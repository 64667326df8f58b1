"""What a TinyNet refuses as input: float64 into float32 weights, and (eval mode, normalisation
known) values far outside the normalised pixel range, such as float images left in 0..255."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyconv as tc
from tinyconv.data import ImageDataset, Normalization
from tinyconv.errors import ModelInputError, TinyconvError
from tinyconv.model_input import RANGE_MARGIN, normalised_range
from tinyconv.train import predict

MNIST_NORM = {"mean": [0.1307], "std": [0.3081]}


def small_net(normalization: dict[str, list[float]] | None = MNIST_NORM) -> tc.TinyNet:
    net = tc.build([tc.ConvSpec(out_channels=4), tc.GAPHeadSpec(num_classes=10)], seed=0)
    net.normalization = normalization
    return net.eval()


def test_a_normalization_assigned_as_a_mapping_is_kept_as_the_object() -> None:
    net = small_net()
    assert net.normalization == Normalization(0.1307, 0.3081)
    assert Normalization.of_model(net) is net.normalization
    with pytest.raises(ValueError, match="needs 'mean' and 'std'"):
        net.normalization = {"mean": [0.1]}
    assert net.normalization == Normalization(0.1307, 0.3081)  # a refused value changes nothing


def test_float64_input_names_the_dtypes_and_the_fix() -> None:
    net = small_net()
    with pytest.raises(ModelInputError, match=r"weights are torch.float32 but the input is "
                       r"torch.float64; convert the input with x.to\(torch.float32\)"):  # fmt: skip
        net(torch.zeros(2, 1, 28, 28, dtype=torch.float64))
    assert issubclass(ModelInputError, TinyconvError) and issubclass(ModelInputError, ValueError)
    assert net.double()(torch.zeros(2, 1, 28, 28, dtype=torch.float64)).dtype == torch.float64


def test_autocast_may_mix_dtypes() -> None:
    net = small_net()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert net(torch.zeros(2, 1, 28, 28, dtype=torch.bfloat16)).shape == (2, 10)


def test_float_pixels_in_0_255_are_refused_in_eval_mode() -> None:
    net = small_net()
    pixels = torch.arange(28 * 28, dtype=torch.float32).reshape(1, 1, 28, 28) % 256
    with pytest.raises(ModelInputError, match=r"from 0 to 255, far outside the -0.424..2.82"):
        net(pixels)
    with pytest.raises(ModelInputError, match=r"left in 0\.\.255, or normalised twice"):
        net((pixels - 0.1307) / 0.3081)  # 0..255 normalised: up to 827
    net.train()
    assert net(pixels).shape == (1, 10)  # training mode: batches come from the loader
    assert small_net(normalization=None)(pixels).shape == (1, 10)  # scale unknown: no check


@settings(max_examples=30, deadline=None)
@given(
    mean=st.floats(0.0, 1.0),
    std=st.floats(0.01, 1.0),
    low=st.floats(0.0, 1.0),
    high=st.floats(0.0, 1.0),
)
def test_law_normalised_pixels_always_pass(
    mean: float, std: float, low: float, high: float
) -> None:
    """Any image of pixels in 0..1, normalised with the model's own statistics, is accepted."""
    net = small_net({"mean": [mean], "std": [std]})
    pixels = torch.linspace(min(low, high), max(low, high), 28 * 28).reshape(1, 1, 28, 28)
    assert net((pixels - mean) / std).shape == (1, 10)


@settings(max_examples=30, deadline=None)
@given(mean=st.floats(0.0, 1.0), std=st.floats(0.01, 1.0), beyond=st.floats(1.001, 1e6))
def test_law_values_beyond_the_margin_are_refused(mean: float, std: float, beyond: float) -> None:
    norm = {"mean": [mean], "std": [std]}
    low, high = normalised_range(Normalization.from_dict(norm))
    limit = high + RANGE_MARGIN * (high - low)
    x = torch.zeros(1, 1, 28, 28)
    x[0, 0, 0, 0] = limit * beyond if limit > 0 else limit + beyond
    with pytest.raises(ModelInputError, match="far outside"):
        small_net(norm)(x)


@pytest.mark.mnist
def test_a_loaded_model_refuses_raw_pixels_and_predict_still_works(
    mnist_test: ImageDataset, tmp_path: Path
) -> None:
    """The trial's case: a model file fed float 0..255 images gave class 0 for every image."""
    net = small_net(mnist_test.normalization.to_dict())
    net.dataset = "mnist"
    loaded = tc.load(tc.save(net, tmp_path / "net.model.pt")).eval()
    raw = mnist_test.images[:64].float()
    with pytest.raises(ModelInputError, match=r"were the images left in 0\.\.255"):
        loaded(raw)
    assert predict(loaded, mnist_test.images[:64]).shape == (64,)  # normalises for you
