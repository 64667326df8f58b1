"""The compiled training step (``TrainConfig.compile`` and ``compile_mode``).

On the CPU ``torch.compile`` builds C++ kernels and records no CUDA graphs, so these
tests check what the CPU can: the mode reaches ``torch.compile``, the step markers of
the graph modes run, and a compiled run trains the same model as the eager one to float
tolerance. The captured CUDA step itself is tested where CUDA exists.
"""

from __future__ import annotations

import pytest
import torch

from tinyconv.train import TrainConfig, fit, load_checkpoint
from tinyconv.train.checkpoint import check_resumable
from tinyconv.train.compiled import COMPILE_MODES, begin_step, compiled_forward

from .helpers import make_loader, make_model


def test_compile_mode_is_checked_and_may_change_on_resume():
    with pytest.raises(ValueError, match="compile_mode must be one of 'default'"):
        TrainConfig(compile_mode="fastest")

    check_resumable(TrainConfig(), TrainConfig(compile=True, compile_mode="reduce-overhead"))


def test_compiled_forward_passes_the_mode_to_torch_compile():
    model = make_model()
    assert compiled_forward(model, TrainConfig(compile_mode="max-autotune")) is model
    for mode in COMPILE_MODES:
        wrapped = compiled_forward(model, TrainConfig(compile=True, compile_mode=mode))
        assert wrapped is not model and wrapped._orig_mod is model  # torch's wrapper
    begin_step(TrainConfig(compile=True, compile_mode="reduce-overhead"))  # marks, no error


def test_a_compiled_reduce_overhead_run_trains_what_the_eager_run_trains(tmp_path):
    def run(**compile_settings) -> tuple[torch.nn.Module, list[float]]:
        model = make_model(seed=3)
        config = TrainConfig(
            epochs=2, batch_size=16, lr=0.1, device="cpu", progress=False, **compile_settings
        )
        history = fit(
            model,
            make_loader(),
            config,
            eval_loader=make_loader(seed=1),
            checkpoint_path=tmp_path / f"{len(compile_settings)}.pt",
        )
        return model, [record.train_loss for record in history] + [history.final.eval_loss]

    eager, eager_losses = run()
    compiled, compiled_losses = run(compile=True, compile_mode="reduce-overhead")
    assert compiled_losses == pytest.approx(eager_losses, rel=1e-4, abs=1e-6)
    for name, value in eager.state_dict().items():
        torch.testing.assert_close(compiled.state_dict()[name], value, rtol=1e-4, atol=1e-5)
    saved = load_checkpoint(tmp_path / "2.pt")
    assert set(saved.model_state) == set(eager.state_dict())  # the plain module's keys
    assert saved.config.compile_mode == "reduce-overhead"
