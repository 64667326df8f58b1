"""Hash dropout masks: keep rate and independence (statistics), rerun and resume, stacking."""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from torch import nn

from tinyconv.train import TrainConfig, fit, fit_stacked, load_checkpoint
from tinyconv.train.hash_dropout import (
    HashDropout,
    _noise_from_hash_,
    draw_key,
    hash_dropout,
    hash_noise,
    use_dropout_masks,
)

from .helpers import make_loader, make_model, quick_config

ALPHA = 1e-6  # a correct generator fails one of these checks about once in a million runs


def keep(shape: tuple[int, ...], p: float, key: int) -> torch.Tensor:
    return hash_noise(shape, p, key) != 0


def z_score(kept: int, trials: int, rate: float) -> float:
    return (kept - trials * rate) / math.sqrt(trials * rate * (1 - rate))


@settings(max_examples=25, deadline=None)
@given(
    p=st.floats(0.01, 0.95),
    key=st.integers(-(2**31), 2**31 - 1),
    size=st.integers(50_000, 300_000),
)
def test_each_element_is_kept_with_probability_one_minus_p(p: float, key: int, size: int) -> None:
    mask = keep((size,), p, key)
    assert abs(z_score(int(mask.sum()), size, 1 - p)) < 5.5


@settings(max_examples=50, deadline=None)
@given(p=st.floats(0.0, 1.0, exclude_max=True))
def test_the_threshold_keeps_exactly_the_share_one_minus_p_of_all_words(p: float) -> None:
    """Over an even grid of every 32-bit word the kept share is 1 - p, to the grid's step."""
    step = 1 << 12
    words = torch.arange(-(2**31), 2**31, step, dtype=torch.int64).to(torch.int32)
    kept = int((_noise_from_hash_(words, 1.0 - p) != 0).sum())
    assert abs(kept / words.numel() - (1.0 - p)) <= 1.0 / words.numel()


def test_kept_elements_are_scaled_as_f_dropout_scales_them() -> None:
    noise = hash_noise((10_000,), 0.3, key=3)
    scale = F.dropout(torch.ones(10_000), 0.3, True).max()
    assert torch.equal(noise.unique(), torch.stack([torch.tensor(0.0), scale]))
    assert hash_dropout(torch.ones(4, dtype=torch.float64), 0.5).dtype == torch.float64


def test_patterns_of_eight_neighbours_are_uniform() -> None:
    """At p = 1/2 every 8-bit pattern of consecutive elements is equally likely (chi-square)."""
    bits = keep((1 << 21,), 0.5, key=12345).view(-1, 8).long()
    patterns = (bits * (1 << torch.arange(8))).sum(1)
    counts = torch.bincount(patterns, minlength=256).double()
    assert stats.chisquare(counts.numpy()).pvalue > ALPHA


@pytest.mark.parametrize("lag", [1, 2, 3, 26, 676, 8 * 676])  # V5's first map is 8 x 26 x 26
def test_elements_at_any_distance_are_uncorrelated(lag: int) -> None:
    mask = keep((1 << 20,), 0.3, key=-7).double()
    a, b = mask[:-lag], mask[lag:]
    correlation = float(torch.corrcoef(torch.stack([a, b]))[0, 1])
    assert abs(correlation) * math.sqrt(a.numel()) < 5


@pytest.mark.parametrize("other", [1, 2, 1 << 16, -(2**31)], ids=["+1", "+2", "+2^16", "+2^31"])
def test_masks_of_nearby_keys_are_uncorrelated(other: int) -> None:
    """Keys that differ in one bit or by a small step give independent masks."""
    first = keep((1 << 20,), 0.3, key=99).double()
    second = keep((1 << 20,), 0.3, key=99 + other).double()
    correlation = float(torch.corrcoef(torch.stack([first, second]))[0, 1])
    assert abs(correlation) * math.sqrt(first.numel()) < 5


def test_consecutive_draws_give_independent_masks() -> None:
    """Two layers' masks in one step: joint keep rate is the product of the rates."""
    torch.manual_seed(0)
    x = torch.ones(400_000)
    a = hash_dropout(x, 0.1) != 0
    b = hash_dropout(x, 0.1) != 0
    both = int((a & b).sum())
    assert abs(z_score(both, x.numel(), 0.9 * 0.9)) < 5.5


def test_a_rerun_draws_the_same_masks_and_the_generator_moves_on() -> None:
    x = torch.randn(64, 8, 26, 26)
    torch.manual_seed(5)
    first, second = hash_dropout(x, 0.05), hash_dropout(x, 0.05)
    torch.manual_seed(5)
    assert torch.equal(first, hash_dropout(x, 0.05))
    assert torch.equal(second, hash_dropout(x, 0.05))
    assert not torch.equal(first, second)


def test_the_mask_does_not_depend_on_the_memory_format() -> None:
    x = torch.randn(4, 8, 6, 6)
    torch.manual_seed(1)
    plain = hash_dropout(x, 0.3)
    torch.manual_seed(1)
    last = hash_dropout(x.contiguous(memory_format=torch.channels_last), 0.3)
    assert torch.equal(plain, last)


def test_gradient_is_the_mask_times_the_scale() -> None:
    x = torch.randn(1000, requires_grad=True)
    torch.manual_seed(2)
    y = hash_dropout(x, 0.4)
    y.sum().backward()
    assert torch.equal(x.grad, (y.detach() != 0).float() / 0.6)


def test_eval_mode_p_zero_and_p_one_behave_as_f_dropout() -> None:
    x = torch.randn(50)
    assert hash_dropout(x, 0.5, training=False) is x
    assert hash_dropout(x, 0.0) is x
    assert torch.equal(hash_dropout(x, 1.0), F.dropout(x, 1.0, True))
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\], got 1.5"):
        hash_dropout(x, 1.5)
    with pytest.raises(ValueError, match=r"has 2,147,483,648 elements \(at most 2\*\*31 - 1\)"):
        hash_noise((2**16, 2**15), 0.5, key=0)


def test_hash_masks_are_not_torch_masks() -> None:
    """The option changes the random draw (so it is not the default without evidence)."""
    x = torch.ones(10_000)
    torch.manual_seed(0)
    hashed = hash_dropout(x, 0.5)
    torch.manual_seed(0)
    assert not torch.equal(hashed, F.dropout(x, 0.5, True))


def test_the_key_is_one_draw_from_the_devices_generator() -> None:
    torch.manual_seed(3)
    key = draw_key("cpu")
    torch.manual_seed(3)
    assert torch.equal(key, torch.randint(-(2**31), 2**31, (), dtype=torch.int32))
    assert key.dtype == torch.int32 and key.dim() == 0


def test_hash_masks_are_the_default_and_a_format_1_recipe_keeps_the_torch_masks_it_drew() -> None:
    from tinyconv.recipe import RECIPE_FORMAT_VERSION, Recipe
    from tinyconv.recipes import get_recipe

    assert TrainConfig().dropout_masks == "hash" and RECIPE_FORMAT_VERSION == 2
    written = get_recipe("mnist_v5").to_dict()
    assert written["version"] == 2 and written["train"]["dropout_masks"] == "hash"
    old = {**written, "version": 1, "train": dict(written["train"])}
    del old["train"]["dropout_masks"]  # as the results files of format 1 hold them
    assert Recipe.from_dict(old).train.dropout_masks == "torch"
    assert Recipe.from_dict({**old, "version": 2}).train.dropout_masks == "hash"


def test_fit_swaps_the_dropouts_for_the_run_and_puts_them_back() -> None:
    model = make_model(dropout=0.3)
    original = model[2]
    seen: list[str] = []

    class Spy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(type(model[3]).__name__)
            return x

    model.insert(0, Spy())
    fit(model, make_loader(32), quick_config(dropout_masks="hash"))
    assert seen and set(seen) == {"HashDropout"}
    assert model[3] is original


def test_the_dropouts_come_back_after_an_error() -> None:
    model = nn.Sequential(nn.Dropout(0.2), nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="boom"), use_dropout_masks(model, "hash"):
        assert isinstance(model[0], HashDropout)
        raise RuntimeError("boom")
    assert type(model[0]) is nn.Dropout


def test_hash_masks_resume_exactly(tmp_path) -> None:
    """One epoch, a checkpoint, then a resumed second epoch: the same weights bit for bit."""
    config = quick_config(epochs=2, dropout_masks="hash", lr=0.05)
    straight = make_model(seed=0, dropout=0.3)
    fit(straight, make_loader(), config)
    path = tmp_path / "last.pt"
    fit(make_model(seed=0, dropout=0.3), make_loader(), replace(config, epochs=1),
        checkpoint_path=path)  # fmt: skip
    torch.rand(100)  # disturb the generator: the resume must restore it
    resumed = make_model(seed=9, dropout=0.3)
    fit(resumed, make_loader(), config, checkpoint_path=path, resume=True)
    assert load_checkpoint(path).epoch == 2
    for name, tensor in straight.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], tensor), name
    other = make_model(seed=0, dropout=0.3)
    fit(other, make_loader(), replace(config, dropout_masks="torch"))
    assert not torch.equal(other[4].weight, straight[4].weight)  # the option is in effect


def test_stacked_seeds_draw_the_hash_masks_of_their_separate_runs() -> None:
    from .test_stacked import SEEDS, assert_same_history, assert_same_weights, bands, loaders
    from .test_stacked import config as stacked_config
    from .test_stacked import models as stacked_models

    data = bands(48, seed=0)
    settings_ = stacked_config(epochs=2, dropout_masks="hash")
    separate = stacked_models(dropout=0.2)
    stacked = copy.deepcopy(separate)
    histories = [
        fit(net, loader, replace(settings_, seed=seed))
        for seed, net, loader in zip(SEEDS, separate, loaders(data, 16), strict=True)
    ]
    together = fit_stacked(stacked, loaders(data, 16), settings_, seeds=SEEDS)
    for alone, joint, net_alone, net_joint in zip(
        histories, together, separate, stacked, strict=True
    ):
        assert_same_weights(net_alone, net_joint, 1e-4)
        assert_same_history(alone, joint)


def test_compiled_masks_equal_the_eager_masks_of_the_same_key() -> None:
    """Under torch.compile the hash is one fused loop; for a given key the mask is the same.

    (Inside a compiled model the key itself comes from inductor's generator, as compiled
    ``F.dropout`` draws from its own: compiled runs are another draw, as documented.)
    """
    key = torch.tensor(-123456, dtype=torch.int32)
    compiled = torch.compile(lambda k: hash_noise((3, 5, 7, 11), 0.3, k), fullgraph=True)
    assert torch.equal(compiled(key), hash_noise((3, 5, 7, 11), 0.3, key))
