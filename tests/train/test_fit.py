import pytest
import torch
from torch.optim.lr_scheduler import OneCycleLR

from tinyconv.train import TrainConfig, evaluate, fit
from tinyconv.train.optim import build_optimizer

from .helpers import ListLoader, make_loader, make_model, quick_config


def test_fit_learns_and_records_every_epoch():
    train, val = make_loader(), make_loader(seed=1)
    model = make_model()
    history = fit(model, train, quick_config(epochs=4), eval_loader=val)
    assert [r.epoch for r in history] == [1, 2, 3, 4]
    assert train.epochs_seen == [1, 2, 3, 4]
    final = history.final
    assert final.eval_name == "val"
    assert final.train_acc >= 0.9 and final.eval_acc >= 0.9
    assert history[0].train_loss > final.train_loss
    assert all(r.seconds > 0 and r.images_per_sec > 0 and r.lr == 0.1 for r in history)
    assert final.eval_acc == evaluate(model, val).accuracy  # scored with the final weights


def test_without_eval_loader_only_training_metrics_are_recorded():
    history = fit(make_model(), make_loader(), quick_config(epochs=1))
    assert (history.final.eval_loss, history.final.eval_name) == (None, None)
    assert set(history.final.metrics()) == {"train_loss", "train_acc"}


def test_step_scheduler_is_stepped_once_per_epoch():
    config = quick_config(epochs=5, scheduler="step", step_size=2, gamma=0.5)
    history = fit(make_model(), make_loader(), config)
    assert [r.lr for r in history] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_onecycle_is_stepped_once_per_batch():
    loader = make_loader()  # 6 batches
    config = quick_config(epochs=3, scheduler="onecycle", max_lr=0.2)
    history = fit(make_model(), loader, config)
    reference = build_optimizer(make_model(), config)
    schedule = OneCycleLR(reference, max_lr=0.2, total_steps=18, pct_start=0.25)
    expected = []
    for step in range(18):
        if step % 6 == 0:
            expected.append(reference.param_groups[0]["lr"])
        reference.step()
        schedule.step()
    assert [r.lr for r in history] == pytest.approx(expected)


def test_gradient_clipping_bounds_the_update():
    x, y = torch.randn(16, 1, 6, 6) * 10, torch.arange(16) % 3
    loader = ListLoader([(x, y)], batch_size=16)

    def update_norm(grad_clip):
        model = make_model()
        before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
        config = quick_config(epochs=1, lr=1.0, momentum=0.0, grad_clip=grad_clip)
        fit(model, loader, config)
        after = torch.cat([p.detach().flatten() for p in model.parameters()])
        return float((after - before).norm())

    assert update_norm(None) > 0.01
    assert update_norm(1e-3) == pytest.approx(1e-3, rel=1e-3)


def test_channels_last_model_trains():
    model = make_model()
    history = fit(model, make_loader(), quick_config(epochs=1, channels_last=True))
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert history.final.train_acc > 0


def test_progress_bar_only_when_asked(capsys):
    fit(make_model(), make_loader(), quick_config(epochs=1, progress=True))
    assert "epoch 1/1" in capsys.readouterr().err
    fit(make_model(), make_loader(), quick_config(epochs=1, progress=False))
    assert capsys.readouterr().err == ""


def test_empty_loader_is_refused():
    with pytest.raises(ValueError, match=r"train_loader is empty \(0 batches per epoch\)"):
        fit(make_model(), ListLoader([]), quick_config())


def test_loader_without_length_is_refused():
    batches = (batch for batch in make_loader().batches)
    with pytest.raises(ValueError, match=r"train_loader \(generator\) must define len\(\)"):
        fit(make_model(), batches, quick_config())


def test_loader_batch_size_must_match_the_config():
    with pytest.raises(
        ValueError, match=r"train_loader\.batch_size is 16 but config\.batch_size is 32"
    ):
        fit(make_model(), make_loader(batch_size=16), quick_config(batch_size=32))


def test_loader_that_yields_nothing_is_refused():
    class Liar(ListLoader):
        def __len__(self):
            return 3

    with pytest.raises(ValueError, match="has len 3 but yielded no samples in epoch 1"):
        fit(make_model(), Liar([]), quick_config())


def test_eval_name_must_be_a_non_empty_string():
    with pytest.raises(ValueError, match="eval_name must be a non-empty string"):
        fit(make_model(), make_loader(), quick_config(), eval_loader=make_loader(), eval_name="")


def test_unavailable_device_fails_before_training():
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        fit(make_model(), make_loader(), quick_config(device="cuda"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (slow to compile on CPU)")
@pytest.mark.parametrize("mode", ["default", "reduce-overhead"])  # the second: CUDA graphs
def test_compiled_cuda_run_checkpoints_the_plain_module(tmp_path, mode):
    from tinyconv.train import load_checkpoint

    model = make_model()
    config = TrainConfig(
        epochs=2,
        batch_size=16,
        lr=0.1,
        device="cuda",
        compile=True,
        compile_mode=mode,
        progress=False,
        sync_every=3,
    )
    history = fit(
        model,
        make_loader(),
        config,
        eval_loader=make_loader(seed=1),
        checkpoint_path=tmp_path / "c.pt",
    )
    assert next(model.parameters()).device.type == "cuda"
    assert history.final.eval_acc >= 0.9
    assert set(load_checkpoint(tmp_path / "c.pt").model_state) == set(model.state_dict())
