"""The deployed graph and the device estimates, against the firmware runs under results/mcu."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import tinyconv as tc
from tinyconv import ConvSpec, GAPHeadSpec, SESpec, build
from tinyconv.deployed_graph import DeployedOp, deployed_ops
from tinyconv.device_estimate import COSTS_FILE, estimate_device, fit_costs, op_features
from tinyconv.errors import ModelGraphError
from tinyconv.mcu.frontier import report_model
from tinyconv.parameters import BudgetExceededError, check_budget

REPO = Path(__file__).resolve().parents[1]
REPORTS = sorted((REPO / "results/mcu").rglob("*.cortex-m*.json"))


def _model(report: dict) -> nn.Module:
    return report_model(report["model"], REPO)


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: str(p.relative_to(REPO / "results/mcu")))
def test_the_deployed_graph_is_the_operator_list_the_firmware_ran(path: Path) -> None:
    report = json.loads(path.read_text())
    ran = [(op["operator"], op["macs"]) for op in report["instructions"]["per_operator"]]
    assert [(op.kind, op.macs) for op in deployed_ops(_model(report))] == ran


SHIPPED = sorted((REPO / "results/mcu/shipped").glob("*.cortex-m4.json"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name.removesuffix(".cortex-m4.json"))
def test_each_estimate_is_within_its_stated_error_of_the_emulated_run(path: Path) -> None:
    report = json.loads(path.read_text())
    estimate = estimate_device(_model(report), "cortex-m4")
    measured = {
        "flash": report["flash"]["model"],
        "arena": report["ram"]["arena"],
        "instructions": report["instructions"]["mean"],
    }
    got = {
        "flash": estimate.flash_bytes,
        "arena": estimate.arena_bytes,
        "instructions": estimate.instructions,
    }
    for name, value in measured.items():
        # the stated error is the largest left-out one, so a fitted model stays within it
        assert abs(got[name] / value - 1) <= estimate.errors[name] + 1e-3, name


def test_the_coefficients_file_names_the_command_and_the_models_it_was_fitted_on() -> None:
    costs = json.loads(COSTS_FILE.read_text())
    assert costs["command"].startswith("python benchmarks/mcu_estimates.py")
    assert costs["cores"]["cortex-m4"]["models"] == len(SHIPPED) >= 20


def _conv(cin: int, cout: int, px: int, taps: int) -> DeployedOp:
    return DeployedOp(
        "CONV_2D",
        "c",
        macs=px * cout * cin * taps,
        output_elements=px * cout,
        weights=cout * cin * taps,
        channels=cout,
        in_channels=cin,
        taps=taps,
    )


@settings(max_examples=25, deadline=None)
@given(
    conv=st.tuples(
        st.floats(0.5, 20),
        st.floats(0, 30),
        st.floats(0, 100),
        st.floats(0, 300),
        st.floats(0, 5),
        st.floats(0, 5000),
    ),
    mean=st.tuples(st.floats(1, 200), st.floats(0, 5000)),
)
def test_a_fit_on_costs_the_features_explain_recovers_them(
    conv: tuple[float, ...], mean: tuple[float, ...]
) -> None:
    runs = []
    shapes = [
        (cin, cout, px, taps)
        for cin in (1, 3, 4, 6)
        for cout in (2, 5, 8)
        for px, taps in ((36, 9), (100, 1), (576, 9))
    ]
    for i, shape in enumerate(shapes):
        means = [DeployedOp("MEAN", "m", input_elements=50 * i + 7 * j) for j in range(1 + i % 3)]
        ops = [_conv(*shape), *means]
        counts = [
            sum(
                c * f
                for c, f in zip(
                    conv if op.kind == "CONV_2D" else mean, op_features(op), strict=True
                )
            )
            for op in ops
        ]
        flash = 3 * ops[0].weights + 2 * ops[0].channels + 40 * len(ops) + 100
        arena = 1.5 * (10 * i) + 16 * len(ops) + 8 * ops[0].channels + 64
        runs.append((ops, 10 * i, {"flash_model": flash, "arena": arena, "instructions": counts}))
    fitted = fit_costs(runs)
    assert fitted["operators"]["CONV_2D"] == pytest.approx(conv, rel=1e-5, abs=1e-3)
    assert fitted["operators"]["MEAN"] == pytest.approx(mean, rel=1e-5, abs=1e-3)
    assert fitted["flash"] == pytest.approx([3, 2, 40, 100], abs=1e-6)  # FLASH_FEATURES, 1
    assert fitted["arena"] == pytest.approx([1.5, 16, 8, 64], abs=1e-6)  # ARENA_FEATURES, 1


def test_a_kept_batchnorm_is_a_1x1_depthwise_conv_and_a_pool_after_dropout_a_quantize() -> None:
    net = build(
        [
            ConvSpec(out_channels=4),
            ConvSpec(out_channels=4),
            SESpec(rd_channels=2),
            GAPHeadSpec(num_classes=3),
        ],
        seed=0,
    )
    kinds = [op.kind for op in deployed_ops(net)]
    assert kinds == [
        "RESHAPE",
        "DEPTHWISE_CONV_2D",
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "MEAN",
        "CONV_2D",
        "CONV_2D",
        "LOGISTIC",
        "MUL",
        "MEAN",
        "CONV_2D",
        "RESHAPE",
    ]
    pooled = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    ops = deployed_ops(pooled, (3, 8, 8))
    assert [op.kind for op in ops] == ["TRANSPOSE", "CONV_2D", "MAX_POOL_2D", "RESHAPE"]
    assert ops[1].macs == 4 * 6 * 6 * 3 * 9
    pooled.insert(2, nn.Dropout(0.1))  # behind a dropout the pool's output is requantised
    ops = deployed_ops(pooled, (3, 8, 8))
    assert [op.kind for op in ops] == ["TRANSPOSE", "CONV_2D", "MAX_POOL_2D", "QUANTIZE", "RESHAPE"]
    assert ops[3].input_elements == 4 * 3 * 3


def test_a_model_without_an_input_shape_or_a_trace_is_refused_by_name() -> None:
    with pytest.raises(
        ModelGraphError,
        match=r"Sequential does not say its input shape; pass input_shape=\(C, H, W\)",
    ):
        deployed_ops(nn.Sequential(nn.Conv2d(1, 2, 3)))

    class Branchy(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if x.sum() > 0 else -x

    with pytest.raises(ModelGraphError, match=r"cannot trace Branchy"):
        deployed_ops(Branchy(), (1, 4, 4))
    with pytest.raises(ModelGraphError, match=r"no device estimate for cortex-m0.*cortex-m4"):
        estimate_device(build([ConvSpec(out_channels=2), GAPHeadSpec(num_classes=2)]), "cortex-m0")


def test_device_budgets_refuse_by_the_estimate_and_name_the_unit() -> None:
    model = tc.recipes.get_recipe("mnist_v5").build_model(seed=0)
    estimate = estimate_device(model)
    assert (
        check_budget(model, max_flash=estimate.flash_bytes, max_arena=estimate.arena_bytes) == 6364
    )
    with pytest.raises(
        BudgetExceededError, match=r"estimated at .* arena bytes on a cortex-m4"
    ) as caught:
        check_budget(model, 8000, max_arena=estimate.arena_bytes - 1)
    assert (caught.value.unit, caught.value.total) == ("arena bytes", estimate.arena_bytes)
    with pytest.raises(BudgetExceededError) as caught:
        check_budget(model, max_flash=1000)
    assert caught.value.unit == "flash bytes" and caught.value.budget == 1000
    with pytest.raises(ValueError, match="max_flash must be >= 0"):
        check_budget(model, max_flash=-1)


def test_the_instruction_estimate_ranks_models_as_the_emulated_runs_do() -> None:
    reports = [json.loads(p.read_text()) for p in SHIPPED]
    measured = [r["instructions"]["mean"] for r in reports]
    estimated = [estimate_device(_model(r)).instructions for r in reports]
    pairs = [
        (i, j)
        for i in range(len(reports))
        for j in range(i)
        if abs(measured[i] / measured[j] - 1) > 0.1
    ]
    agree = sum((measured[i] > measured[j]) == (estimated[i] > estimated[j]) for i, j in pairs)
    assert agree == len(pairs)
