"""Every model ``build`` makes traces with torch.fx and exports with torch.export (dynamic
batch), matching eager outputs; the eager input checks stay."""

import pytest
import torch
from hypothesis import given, settings
from strategies import NetCase, net_cases

from tinyconv import ConvHeadSpec, ConvSpec, GAPHeadSpec, SESpec, TransitionSpec, build
from tinyconv.blocks import GAPHead, SqueezeExcite

V5_LIKE = (
    ConvSpec(out_channels=8),
    ConvSpec(out_channels=16),
    SESpec(rd_channels=4),
    TransitionSpec(out_channels=8),
    ConvSpec(out_channels=16),
    GAPHeadSpec(num_classes=10),
)


@settings(max_examples=25, deadline=None)
@given(case=net_cases())
def test_fx_trace_matches_eager(case: NetCase) -> None:
    model = build(case.specs, in_channels=case.in_channels, input_size=case.input_size).eval()
    traced = torch.fx.symbolic_trace(model)
    x = torch.randn(3, case.in_channels, *case.input_size)
    torch.testing.assert_close(traced(x), model(x))


@settings(max_examples=6, deadline=None)
@given(case=net_cases(max_blocks=3))
def test_torch_export_with_dynamic_batch_matches_eager(case: NetCase) -> None:
    model = build(case.specs, in_channels=case.in_channels, input_size=case.input_size).eval()
    example = torch.randn(2, case.in_channels, *case.input_size)
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
    for size in (1, 5):
        x = torch.randn(size, case.in_channels, *case.input_size)
        torch.testing.assert_close(program.module()(x), model(x))


@pytest.mark.parametrize("module", [SqueezeExcite(8, rd_channels=2), GAPHead(8, 3)])
def test_se_and_gap_head_trace_alone(module: torch.nn.Module) -> None:
    traced = torch.fx.symbolic_trace(module.eval())
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(traced(x), module(x))


def test_v5_like_model_traces_and_jit_traces_without_tracer_warnings() -> None:
    model = build(V5_LIKE).eval()
    x = torch.randn(4, 1, 28, 28)
    torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), model(x))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # jit.trace itself is deprecated
        warnings.simplefilter("error", torch.jit.TracerWarning)
        traced = torch.jit.trace(model, x)
    torch.testing.assert_close(traced(x), model(x))


def test_conv_head_model_traces() -> None:
    model = build([ConvSpec(out_channels=4), ConvHeadSpec(num_classes=3)]).eval()
    x = torch.randn(2, 1, 28, 28)
    torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), model(x))


def test_eager_checks_still_name_the_problem() -> None:
    model = build(V5_LIKE)
    with pytest.raises(ValueError, match=r"expects input of shape \(B, 1, 28, 28\)"):
        model(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match=r"floating-point images, got dtype torch.uint8.*/ 255"):
        model(torch.zeros(2, 1, 28, 28, dtype=torch.uint8))
