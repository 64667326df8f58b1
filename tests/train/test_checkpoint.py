import contextlib

import pytest
import torch
from torch import nn

from tinyconv.atomic import atomic_write
from tinyconv.train import CheckpointError, History, TrainConfig, load_checkpoint, save_checkpoint
from tinyconv.train.checkpoint import check_resumable, unwrap_model
from tinyconv.train.optim import build_optimizer, build_scheduler
from tinyconv.train.seed import rng_state

from .helpers import make_model, record


def save(path, model=None, **overrides):
    model = model if model is not None else make_model()
    config = TrainConfig(scheduler="step")
    optimizer = build_optimizer(model, config)
    scheduler, _ = build_scheduler(optimizer, config, steps_per_epoch=3)
    arguments = {
        "model": model,
        "optimizer": optimizer,
        "scheduler": scheduler,
        "epoch": 4,
        "config": config,
        "history": History([record(1), record(2)]),
        "rng": rng_state(),
    }
    arguments.update(overrides)
    return save_checkpoint(path, **arguments)


def test_roundtrip_restores_every_part(tmp_path):
    model = make_model(seed=3)
    path = save(tmp_path / "last.pt", model=model)
    checkpoint = load_checkpoint(path)
    assert checkpoint.epoch == 4
    assert checkpoint.config == TrainConfig(scheduler="step")
    assert checkpoint.history == History([record(1), record(2)])
    assert checkpoint.scheduler_state["step_size"] == 7
    assert "state" in checkpoint.optimizer_state
    for name, tensor in model.state_dict().items():
        assert torch.equal(checkpoint.model_state[name], tensor)
    assert torch.equal(checkpoint.rng["torch"], torch.get_rng_state())
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left behind


def test_compiled_wrapper_is_unwrapped_before_saving(tmp_path):
    model = make_model()
    compiled = torch.compile(model)  # lazy: nothing is compiled until the first call
    assert unwrap_model(compiled) is model
    checkpoint = load_checkpoint(save(tmp_path / "c.pt", model=compiled))
    assert set(checkpoint.model_state) == set(model.state_dict())


def test_a_failing_write_keeps_the_old_checkpoint_and_leaves_no_temp_file(tmp_path):
    path = save(tmp_path / "last.pt")
    before = path.read_bytes()
    with pytest.raises(TypeError, match="cannot store a function"):
        save(path, epoch=5, rng={"unpicklable": lambda: 0})
    assert path.read_bytes() == before
    assert load_checkpoint(path).epoch == 4
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_atomic_write_interrupted_mid_file_keeps_the_old_content(tmp_path):
    target = tmp_path / "file.bin"
    target.write_bytes(b"old")

    def write_half_then_fail(file):
        file.write(b"new but incomplete")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, write_half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_atomic_write_into_a_missing_directory_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        atomic_write(tmp_path / "nope" / "x.pt", lambda f: f.write(b""))


def test_missing_checkpoint_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "absent.pt")


def test_truncated_checkpoint_is_reported_as_corrupt(tmp_path):
    path = save(tmp_path / "last.pt")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="corrupt, truncated or not a torch file"):
        load_checkpoint(path)


def test_garbage_bytes_are_reported_as_corrupt(tmp_path):
    path = tmp_path / "last.pt"
    path.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(CheckpointError, match=r"cannot read checkpoint .*\(400 bytes\)"):
        load_checkpoint(path)


def test_a_plain_state_dict_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(CheckpointError, match="not a tinyconv checkpoint of format 1 or 2"):
        load_checkpoint(path)


def test_resume_compatibility():
    check_resumable(TrainConfig(epochs=2), TrainConfig(epochs=9, device="cpu", progress=False))
    with pytest.raises(ValueError, match=r"in lr \(checkpoint 0.01, now 0.1\), seed"):
        check_resumable(TrainConfig(), TrainConfig(lr=0.1, seed=1))
    with pytest.raises(ValueError, match=r"epochs \(checkpoint 2, now 3\)"):
        check_resumable(
            TrainConfig(scheduler="onecycle", epochs=2), TrainConfig(scheduler="onecycle", epochs=3)
        )


def test_a_flipped_byte_is_a_checkpoint_error_not_a_key_error(tmp_path):
    """A damaged file can fail anywhere inside the unpickler (KeyError, IndexError, ...)."""
    from tinyconv.train import CheckpointError
    from tinyconv.train.optim import build_optimizer
    from tinyconv.train.seed import rng_state

    model = nn.Linear(2, 1)
    path = save_checkpoint(
        tmp_path / "last.pt", model=model, optimizer=build_optimizer(model, TrainConfig()),
        scheduler=None, epoch=1, config=TrainConfig(), history=History(), rng=rng_state(),
    )  # fmt: skip
    payload = path.read_bytes()
    for offset in range(60, min(len(payload), 400), 17):
        path.write_bytes(payload[:offset] + bytes([payload[offset] ^ 0xFF]) + payload[offset + 1 :])
        with contextlib.suppress(CheckpointError):  # loading may succeed; any failure is ours
            load_checkpoint(path)


def checkpoint_content(checkpoint):
    """One digest of everything a loaded checkpoint gave back."""
    from tinyconv._digest import content_digest

    return content_digest(
        [
            checkpoint.epoch,
            checkpoint.model_state,
            checkpoint.optimizer_state,
            checkpoint.scheduler_state,
            checkpoint.config.to_dict(),
            checkpoint.history.to_list(),
            checkpoint.rng,
            checkpoint.stopped,
        ]
    )


def stepped_checkpoint(path, *, legacy=False):
    """A checkpoint whose optimizer holds momentum buffers (after one real step)."""
    model = make_model(seed=1)
    config = TrainConfig(scheduler="step", momentum=0.9)
    optimizer = build_optimizer(model, config)
    scheduler, _ = build_scheduler(optimizer, config, steps_per_epoch=3)
    model(torch.randn(4, 1, 6, 6)).sum().backward()
    optimizer.step()
    save(path, model=model, optimizer=optimizer, scheduler=scheduler)
    if legacy:  # as tinyconv wrote it before the digest: format 1, no digest entry
        payload = torch.load(path, weights_only=True)
        payload.pop("digest")
        torch.save({**payload, "format": 1}, path)
    return path


@pytest.mark.parametrize("legacy", [False, True], ids=["format 2 (digest)", "format 1 (CRCs)"])
def test_a_damaged_checkpoint_is_refused_or_loads_bit_identical(tmp_path, legacy):
    """Issue 21 point 1: damage anywhere is refused (naming the file) or changes nothing."""
    from damaged_files import archive_offsets, damaged_copies

    path = stepped_checkpoint(tmp_path / "last.ckpt", legacy=legacy)
    intact = checkpoint_content(load_checkpoint(path))
    refused = tried = 0
    for what, copy in damaged_copies(path, archive_offsets(path), tmp_path / "damaged"):
        tried += 1
        try:
            loaded = load_checkpoint(copy)
        except CheckpointError as error:
            assert str(copy) in str(error), (what, error)
            refused += 1
            continue
        assert checkpoint_content(loaded) == intact, f"{what}: loaded something else"
    assert refused > 0.6 * tried  # zip header fields torch never reads change nothing


def test_a_flipped_weight_byte_names_the_damage_and_the_fix(tmp_path):
    path = stepped_checkpoint(tmp_path / "last.ckpt")
    weight = load_checkpoint(path).model_state["0.weight"]
    data = bytearray(path.read_bytes())
    data[data.find(weight.numpy().tobytes()) + 5] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"last\.ckpt' is damaged: .* delete it to train"):
        load_checkpoint(path)
