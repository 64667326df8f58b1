import math

import pytest

from tinyconv.train import NonFiniteLossError, fit, load_checkpoint

from .helpers import ListLoader, make_loader, make_model, quick_config


class NaNAt(ListLoader):
    """Yields the batches of ``make_loader()`` but puts a NaN into one batch of one epoch."""

    def __init__(self, epoch: int, step: int):
        super().__init__(make_loader().batches, batch_size=16)
        self.bad_epoch, self.bad_step = epoch, step

    def __iter__(self):
        for step, (x, y) in enumerate(self.batches, start=1):
            if (self.epochs_seen[-1], step) == (self.bad_epoch, self.bad_step):
                x = x.clone()
                x[0, 0, 0, 0] = math.nan
            yield x, y


def test_nan_input_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "last.pt"
    fit(make_model(), make_loader(), quick_config(epochs=1), checkpoint_path=path)
    good = path.read_bytes()
    model = make_model()
    with pytest.raises(NonFiniteLossError) as info:
        fit(
            model, NaNAt(epoch=2, step=3), quick_config(epochs=3), checkpoint_path=path, resume=True
        )
    error = info.value
    assert (error.epoch, error.step, math.isnan(error.loss)) == (2, 3, True)
    assert isinstance(error, RuntimeError)
    message = str(error)
    assert "training loss is nan at epoch 2, step 3/6" in message
    assert f"the last good checkpoint is kept: '{path}' (epoch 1)" in message
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_nan_in_a_later_epoch_keeps_this_runs_last_checkpoint(tmp_path):
    path = tmp_path / "last.pt"
    with pytest.raises(NonFiniteLossError, match=r"epoch 3, step 1/6; .* kept: .* \(epoch 2\)"):
        fit(make_model(), NaNAt(epoch=3, step=1), quick_config(epochs=4), checkpoint_path=path)
    assert load_checkpoint(path).epoch == 2
    assert len(load_checkpoint(path).history) == 2


def test_divergence_from_a_huge_learning_rate_is_reported():
    config = quick_config(epochs=3, lr=1e30, momentum=0.0)
    with pytest.raises(
        NonFiniteLossError, match=r"no checkpoint_path was given.*Lower the learning rate"
    ):
        fit(make_model(), make_loader(), config)


def test_nan_before_any_checkpoint_leaves_an_old_file_untouched(tmp_path):
    path = tmp_path / "last.pt"
    path.write_bytes(b"from another run")
    with pytest.raises(NonFiniteLossError, match="no checkpoint was written by this run"):
        fit(
            make_model(),
            NaNAt(epoch=1, step=2),
            quick_config(),
            checkpoint_path=path,
            overwrite=True,
        )
    assert path.read_bytes() == b"from another run"


@pytest.mark.parametrize(("bad_step", "sync_every"), [(3, 4), (5, 4), (2, 100)])
def test_deferred_finiteness_check_still_names_the_first_bad_step(tmp_path, bad_step, sync_every):
    """With sync_every > 1 (the accelerator path) the flag is read late but names the first bad
    step, and the checkpoint on disk is still the last good epoch."""
    path = tmp_path / "last.pt"
    config = quick_config(epochs=3, sync_every=sync_every)
    with pytest.raises(NonFiniteLossError) as info:
        fit(make_model(), NaNAt(epoch=2, step=bad_step), config, checkpoint_path=path)
    assert (info.value.epoch, info.value.step) == (2, bad_step)
    assert math.isnan(info.value.loss)
    assert f"step {bad_step}/6" in str(info.value) and "(epoch 1)" in str(info.value)
    assert load_checkpoint(path).epoch == 1


def test_deferred_check_does_not_change_what_a_finite_run_computes():
    histories = [
        fit(make_model(), make_loader(), quick_config(epochs=2, sync_every=every)).to_list()
        for every in (1, 4)
    ]
    for record in histories[1]:
        record.pop("seconds"), record.pop("images_per_sec")
    for record in histories[0]:
        record.pop("seconds"), record.pop("images_per_sec")
    assert histories[0] == histories[1]
