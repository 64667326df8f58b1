import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from tinyconv.train import fit, load_checkpoint

from .helpers import make_data, make_loader, make_model, quick_config


class Interruptible:
    """Wraps a shuffling DataLoader (it draws from torch's global RNG) and can simulate Ctrl-C."""

    def __init__(self, interrupt_at_epoch: int | None = None):
        images, labels = make_data(80)
        self.loader = DataLoader(TensorDataset(images, labels), batch_size=16, shuffle=True)
        self.batch_size = 16
        self.interrupt_at_epoch = interrupt_at_epoch
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        if self.epoch == self.interrupt_at_epoch:
            raise KeyboardInterrupt
        return iter(self.loader)


def comparable(history):
    return [
        (r.epoch, r.train_loss, r.train_acc, r.eval_loss, r.eval_acc, r.eval_name, r.lr)
        for r in history
    ]


@pytest.mark.parametrize(
    ("optimizer", "scheduler", "how"),
    [("sgd", "step", "interrupt"), ("adamw", "onecycle", "interrupt"), ("sgd", "step", "extend")],
)
def test_one_epoch_plus_resume_equals_two_straight_epochs(tmp_path, optimizer, scheduler, how):
    # Dropout, shuffling and label smoothing make every epoch depend on the RNG states.
    config = quick_config(
        epochs=2,
        optimizer=optimizer,
        lr=0.05,
        scheduler=scheduler,
        step_size=1,
        gamma=0.5,
        label_smoothing=0.1,
        grad_clip=5.0,
    )
    evaluation = make_loader(seed=1)

    straight_model = make_model(seed=0, dropout=0.3)
    straight = fit(straight_model, Interruptible(), config, eval_loader=evaluation)

    path = tmp_path / "last.pt"
    if how == "interrupt":
        with pytest.raises(KeyboardInterrupt):
            fit(
                make_model(seed=0, dropout=0.3),
                Interruptible(2),
                config,
                eval_loader=evaluation,
                checkpoint_path=path,
            )
    else:
        first = quick_config(**{**config.to_dict(), "epochs": 1})
        fit(
            make_model(seed=0, dropout=0.3),
            Interruptible(),
            first,
            eval_loader=evaluation,
            checkpoint_path=path,
        )
    assert load_checkpoint(path).epoch == 1

    torch.rand(100)  # disturb the global RNG: resume must restore it
    resumed_model = make_model(seed=123, dropout=0.3)  # other initial weights: must be restored
    resumed = fit(
        resumed_model,
        Interruptible(),
        config,
        eval_loader=evaluation,
        checkpoint_path=path,
        resume=True,
    )

    assert comparable(resumed) == comparable(straight)
    assert straight_model.state_dict().keys() == resumed_model.state_dict().keys()
    for name, tensor in straight_model.state_dict().items():
        assert torch.equal(resumed_model.state_dict()[name], tensor), name
    assert load_checkpoint(path).epoch == 2


def test_resume_without_a_checkpoint_file_starts_fresh(tmp_path):
    history = fit(
        make_model(),
        make_loader(),
        quick_config(epochs=2),
        checkpoint_path=tmp_path / "new.pt",
        resume=True,
    )
    assert [r.epoch for r in history] == [1, 2]
    assert load_checkpoint(tmp_path / "new.pt").history == history


def test_resume_of_a_finished_run_trains_no_more(tmp_path):
    path = tmp_path / "last.pt"
    finished = fit(make_model(), make_loader(), quick_config(epochs=2), checkpoint_path=path)
    before = path.read_bytes()
    again = fit(
        make_model(), make_loader(), quick_config(epochs=2), checkpoint_path=path, resume=True
    )
    assert again == finished
    assert path.read_bytes() == before


def test_resume_needs_a_checkpoint_path():
    with pytest.raises(ValueError, match="resume=True needs checkpoint_path"):
        fit(make_model(), make_loader(), quick_config(), resume=True)


def test_resume_with_a_different_config_is_refused(tmp_path):
    path = tmp_path / "last.pt"
    fit(make_model(), make_loader(), quick_config(epochs=1), checkpoint_path=path)
    with pytest.raises(ValueError, match=r"cannot resume: .* in lr \(checkpoint 0.1, now 0.2\)"):
        fit(
            make_model(),
            make_loader(),
            quick_config(epochs=2, lr=0.2),
            checkpoint_path=path,
            resume=True,
        )


def test_resume_onecycle_with_another_loader_length_is_refused(tmp_path):
    path = tmp_path / "last.pt"
    config = quick_config(epochs=2, scheduler="onecycle")
    with pytest.raises(KeyboardInterrupt):
        fit(make_model(), Interruptible(2), config, checkpoint_path=path)
    with pytest.raises(
        ValueError, match=r"OneCycle schedule has 10 steps but .* 2 epochs x 6 batches = 12"
    ):
        fit(make_model(), make_loader(), config, checkpoint_path=path, resume=True)
