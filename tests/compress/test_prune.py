"""Pruning to a budget: nothing pruned keeps the function exactly; pruned random models stay
ordinary TinyNets (shape, budget, specs that describe their weights, file round trip)."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import NetCase, net_cases
from torch import nn

import tinyconv as tc
from tinyconv.compress import PruneError, block_widths, prune_to_budget, rebuild
from tinyconv.compress.prune import prunable_groups
from tinyconv.errors import MissingExtraError
from tinyconv.recipes import RECIPES

REPO_ROOT = Path(__file__).resolve().parents[2]

tp = pytest.importorskip("torch_pruning")

FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def with_random_statistics(model: tc.TinyNet, seed: int = 0) -> tc.TinyNet:
    """Eval-mode model whose BatchNorm statistics and affine weights are not the defaults."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            shape = module.running_mean.shape
            module.running_mean.copy_(torch.randn(shape, generator=generator))
            module.running_var.copy_(torch.rand(shape, generator=generator) + 0.5)
            module.weight.data.copy_(torch.randn(shape, generator=generator))
            module.bias.data.copy_(torch.randn(shape, generator=generator))
            module.num_batches_tracked.fill_(1)
    return model.eval()


def v5(seed: int = 0) -> tc.TinyNet:
    return with_random_statistics(RECIPES["mnist_v5"].build_model(seed=seed), seed)


def test_nothing_to_prune_keeps_forward_specs_and_weights_exact() -> None:
    model = v5()
    result = prune_to_budget(model, tc.count_parameters(model))  # pruning ratio 0
    x = torch.randn(8, 1, 28, 28)
    assert result.steps == 0
    assert result.model.specs == model.specs
    assert torch.equal(result.model(x), model(x))
    original = model.state_dict()
    assert all(torch.equal(v, original[k]) for k, v in result.model.state_dict().items())
    assert result.model.dataset == "mnist" and result.model.normalization == model.normalization


def test_pruned_model_meets_budget_keeps_classes_and_leaves_input_alone() -> None:
    model = v5()
    before = copy.deepcopy(model.state_dict())
    result = prune_to_budget(model, 4000)
    assert result.params_before == 6364
    assert result.params_after == tc.count_parameters(result.model) <= 4000
    assert result.model.num_classes == 10
    assert result.model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert result.widths_after == block_widths(result.model)
    assert all(result.widths_after[k] <= v for k, v in result.widths_before.items())
    assert result.widths_after != result.widths_before
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert tc.build_from_architecture(result.model.architecture()).specs == result.model.specs


def test_se_bottleneck_keeps_one_channel_and_unreachable_budget_is_one_clear_error() -> None:
    model = v5()
    with pytest.raises(PruneError, match=r"cannot prune to 10 parameters: with one channel"):
        prune_to_budget(model, 10)
    tiny = prune_to_budget(model, 150).model
    assert min(block_widths(tiny).values()) >= 1
    assert tiny.se1.rd_channels >= 1 and tiny.num_classes == 10


def test_refuses_a_bad_budget_and_a_plain_module() -> None:
    with pytest.raises(PruneError, match="max_params must be a positive integer"):
        prune_to_budget(v5(), 0)
    with pytest.raises(PruneError, match="needs a TinyNet"):
        prune_to_budget(nn.Sequential(nn.Conv2d(1, 4, 3)), 10)  # type: ignore[arg-type]


@FEW
@given(case=net_cases(max_blocks=4), fraction=st.sampled_from((0.3, 0.6, 0.9)))
def test_random_specs_pruned_keep_shape_budget_and_round_trip(
    case: NetCase, fraction: float, tmp_path_factory: pytest.TempPathFactory
) -> None:
    model = tc.build(case.specs, in_channels=case.in_channels, input_size=case.input_size, seed=0)
    model = with_random_statistics(model)
    budget = max(1, int(fraction * tc.count_parameters(model)))
    try:
        result = prune_to_budget(model, budget)
    except PruneError as error:
        assert "with one channel left in every prunable layer" in str(error)
        return
    pruned = result.model
    x = torch.randn(3, case.in_channels, *case.input_size)
    assert pruned(x).shape == (3, case.num_classes)
    assert tc.count_parameters(pruned) == result.params_after <= budget
    path = Path(tmp_path_factory.mktemp("pruned")) / "model.pt"
    tc.save(pruned, path)
    copy_ = tc.load(path)
    assert copy_.specs == pruned.specs
    assert torch.equal(copy_(x), pruned(x))


def test_a_separable_first_block_keeps_the_image_channels() -> None:
    """Its depthwise filters are the input's channels: pruning one would drop an image channel."""
    specs = [
        tc.DepthwiseSeparableSpec(out_channels=4, kernel_size=1, padding=0, norm=False,
                                  activation=None),
        tc.ConvHeadSpec(num_classes=1),
    ]  # fmt: skip
    model = with_random_statistics(tc.build(specs, in_channels=2, input_size=(4, 4), seed=0))
    result = prune_to_budget(model, 24)  # of 80: only the 1x1 half's filters can go
    assert result.model.sep1.depthwise.conv.weight.shape[0] == 2
    assert result.model(torch.randn(3, 2, 4, 4)).shape == (3, 1)
    assert tc.count_parameters(result.model) == result.params_after <= 24


@FEW
@given(case=net_cases(max_blocks=4), ratio=st.sampled_from((0.25, 0.5, 0.75)))
def test_no_layer_loses_more_than_the_ratio_of_its_channels(case: NetCase, ratio: float) -> None:
    model = tc.build(case.specs, in_channels=case.in_channels, input_size=case.input_size, seed=0)
    model = with_random_statistics(model)
    budget = max(1, tc.count_parameters(model) // 2)
    try:
        result = prune_to_budget(model, budget, max_pruning_ratio=ratio)
    except PruneError as error:
        assert f"at most {ratio:g} of every layer's channels removed" in str(error)
        assert "raise --max-pruning-ratio" in str(error)
        return
    assert result.params_after <= budget and result.max_pruning_ratio == ratio
    for name, width in result.widths_before.items():
        assert result.widths_after[name] >= max(1, math.ceil(width * (1 - ratio) - 1e-9)), name


def test_the_ratio_keeps_the_layer_a_global_ranking_drains() -> None:
    # the committed FashionMNIST V5, seed 0: the global ranking leaves conv2 one channel
    model = tc.load(REPO_ROOT / "results" / "fashion" / "fashion_v5" / "seed0.model.pt")
    free = prune_to_budget(model, 4000)
    capped = prune_to_budget(model, 4000, max_pruning_ratio=0.5)
    assert free.widths_before["conv2"] == 12 and free.widths_after["conv2"] == 1
    assert all(capped.widths_after[k] >= w / 2 for k, w in capped.widths_before.items())
    assert capped.params_after <= 4000 and capped.to_dict()["max_pruning_ratio"] == 0.5
    assert free.max_pruning_ratio == 1.0
    for bad in (0, 0.0, -0.5, 1.5, True, float("nan"), "0.5", None):
        with pytest.raises(PruneError, match=r"max_pruning_ratio must be in \(0, 1\]"):
            prune_to_budget(model, 4000, max_pruning_ratio=bad)


@FEW
@given(case=net_cases(max_blocks=4), data=st.data())
def test_rebuild_of_a_narrowed_model_computes_what_it_computed(
    case: NetCase, data: st.DataObject
) -> None:
    model = tc.build(case.specs, in_channels=case.in_channels, input_size=case.input_size, seed=0)
    model = with_random_statistics(model)
    example = torch.zeros(1, case.in_channels, *case.input_size)
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=example)
    groups = prunable_groups(graph, model)
    if groups:
        group = data.draw(st.sampled_from(groups))
        module, handler = group[0].dep.target.module, group[0].dep.handler
        width = graph.get_out_channels(module)
        graph.get_pruning_group(module, handler, [data.draw(st.integers(0, width - 1))]).prune()
    rebuilt = rebuild(model)
    x = torch.randn(2, case.in_channels, *case.input_size)
    assert rebuilt.specs == tc.build_from_architecture(rebuilt.architecture()).specs
    torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)


def test_importing_compress_does_not_import_torch_pruning() -> None:
    code = (
        "import sys, tinyconv, tinyconv.compress, tinyconv.cli.commands.prune\n"
        "print([m for m in sys.modules if m.split('.')[0] == 'torch_pruning'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch_pruning", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'tinyconv\[compress\]'"):
        prune_to_budget(v5(), 4000)


def test_every_public_name_is_what_it_says_after_all_modules_loaded() -> None:
    import importlib
    import inspect
    import pkgutil

    import tinyconv.compress as package

    for info in pkgutil.iter_modules(package.__path__):  # a submodule must not shadow a name
        importlib.import_module(f"tinyconv.compress.{info.name}")
    for name in package.__all__:
        value = getattr(package, name)
        assert not inspect.ismodule(value), f"tinyconv.compress.{name} is a module"
        assert getattr(value, "__name__", name) == name or name.isupper()
