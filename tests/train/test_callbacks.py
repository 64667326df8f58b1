import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyconv.train import Callback, EarlyStopping, fit, load_checkpoint

from .helpers import make_loader, make_model, quick_config


@pytest.mark.parametrize("monitor", ["test_loss", "test_acc"])
def test_early_stopping_refuses_the_test_set(monitor):
    with pytest.raises(ValueError, match="never early-stop on the test set"):
        EarlyStopping(monitor)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"monitor": "val_f1"}, "ending in '_loss' or '_acc'"),
        ({"patience": 0}, "patience must be an int >= 1, got 0"),
        ({"min_delta": -0.1}, "min_delta must be finite and >= 0, got -0.1"),
    ],
)
def test_early_stopping_arguments_are_checked(arguments, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopping(**arguments)


def test_should_stop_counts_epochs_since_the_best():
    losses = EarlyStopping("val_loss", patience=2)
    assert not losses.should_stop([])
    assert not losses.should_stop([1.0, 0.9, 0.95])
    assert losses.should_stop([1.0, 0.9, 0.95, 0.91])
    assert not losses.should_stop([1.0, 0.9, 0.95, 0.89])
    accuracies = EarlyStopping("val_acc", patience=1, min_delta=0.05)
    assert accuracies.should_stop([0.5, 0.54])  # +0.04 is below min_delta
    assert not accuracies.should_stop([0.5, 0.56])


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20), st.integers(1, 5))
def test_a_new_best_never_stops(values, patience):
    stopper = EarlyStopping("val_loss", patience=patience)
    assert not stopper.should_stop([*values, min(values) - 1.0])


def test_fit_stops_after_patience_epochs_without_improvement(tmp_path):
    history = fit(
        make_model(),
        make_loader(),
        quick_config(epochs=10),
        eval_loader=make_loader(seed=1),
        callbacks=[EarlyStopping("val_loss", patience=2, min_delta=1e9)],  # nothing improves
        checkpoint_path=tmp_path / "last.pt",
    )
    assert [r.epoch for r in history] == [1, 2, 3]


def test_resuming_an_early_stopped_run_trains_no_more(tmp_path):
    path = tmp_path / "last.pt"
    stopper = EarlyStopping("val_loss", patience=1, min_delta=1e9)  # stops after epoch 2
    arguments = {"eval_loader": make_loader(seed=1), "checkpoint_path": path}
    stopped = fit(
        make_model(), make_loader(), quick_config(epochs=10), callbacks=[stopper], **arguments
    )
    assert [r.epoch for r in stopped] == [1, 2]
    assert load_checkpoint(path).stopped
    before = path.read_bytes()
    for _ in range(2):
        again = fit(make_model(), make_loader(), quick_config(epochs=10), resume=True, **arguments)
        assert again == stopped
    assert path.read_bytes() == before


def test_fit_refuses_early_stopping_on_a_set_named_test():
    with pytest.raises(ValueError, match=r"recorded only .*evaluated set: 'test'"):
        fit(
            make_model(),
            make_loader(),
            quick_config(epochs=3),
            eval_loader=make_loader(seed=1),
            eval_name="test",
            callbacks=[EarlyStopping("val_loss")],
        )


def test_every_callback_runs_and_any_true_stops():
    seen = []

    class Record(Callback):
        def on_epoch_end(self, state):
            seen.append((state.epoch, state.record.epoch, len(state.history)))

    class StopAtTwo(Callback):
        def on_epoch_end(self, state):
            return state.epoch == 2

    history = fit(
        make_model(), make_loader(), quick_config(epochs=5), callbacks=[StopAtTwo(), Record()]
    )
    assert len(history) == 2
    assert seen == [(1, 1, 1), (2, 2, 2)]
    assert Callback().on_epoch_end(None) is None
