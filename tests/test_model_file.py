"""One model file: save in one process, load in a fresh one with nothing but tinyconv, same
logits on real images; corrupt, truncated and foreign files are refused; no code unpickled."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import tinyconv as tc
from tinyconv.data import TensorLoader
from tinyconv.errors import ModelFileError
from tinyconv.train import TrainConfig, fit

SPECS = (
    tc.ConvSpec(out_channels=8),
    tc.ConvSpec(out_channels=12, dropout=0.05),
    tc.SESpec(rd_channels=3),
    tc.TransitionSpec(out_channels=8),
    tc.ConvSpec(out_channels=12),
    tc.GAPHeadSpec(num_classes=10),
)


def trained(tmp_path: Path, mnist_train) -> tuple[tc.TinyNet, Path]:
    model = tc.build(SPECS, seed=0)
    loader = TensorLoader(mnist_train.subset(range(1024)), 128, shuffle=True, seed=0)
    checkpoint = tmp_path / "last.ckpt"
    fit(model, loader, TrainConfig(epochs=1, lr=0.05, device="cpu", progress=False),
        checkpoint_path=checkpoint)  # fmt: skip
    return model.eval(), checkpoint


@pytest.mark.mnist
def test_save_then_load_in_a_fresh_process_gives_identical_logits(
    tmp_path: Path, mnist_train, mnist_test
) -> None:
    model, _ = trained(tmp_path, mnist_train)
    path = tc.save(
        model, tmp_path / "net.model.pt", class_names=mnist_test.classes,
        mean=mnist_test.mean, std=mnist_test.std, dataset="mnist", metadata={"note": "test"},
    )  # fmt: skip
    x, _ = next(iter(TensorLoader(mnist_test.subset(range(500)), 500)))
    torch.save(x, tmp_path / "x.pt")
    script = textwrap.dedent(
        f"""
        import sys, torch, tinyconv
        assert not any("examples" in p for p in sys.path)
        model = tinyconv.load({str(path)!r})
        x = torch.load({str(tmp_path / "x.pt")!r}, weights_only=True)
        torch.save(model(x), {str(tmp_path / "logits.pt")!r})
        print(model.class_names[7], model.normalization, model.dataset, model.metadata)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert out.strip() == "7 {'mean': [0.1307], 'std': [0.3081]} mnist {'note': 'test'}"
    with torch.no_grad():
        expected = model(x)
    assert torch.equal(torch.load(tmp_path / "logits.pt", weights_only=True), expected)


@pytest.mark.mnist
def test_a_fit_checkpoint_of_a_tinynet_loads_as_the_trained_model(
    tmp_path: Path, mnist_train
) -> None:
    model, checkpoint = trained(tmp_path, mnist_train)
    loaded = tc.load(checkpoint)
    assert loaded.specs == model.specs and not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key


def small_model() -> tc.TinyNet:
    return tc.build([tc.ConvSpec(out_channels=2, stride=2), tc.GAPHeadSpec(num_classes=3)], seed=1)


def test_truncated_corrupt_and_foreign_files_are_refused(tmp_path: Path) -> None:
    good = tc.save(small_model(), tmp_path / "good.pt")
    payload = good.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(payload[: len(payload) // 2])
    flipped = tmp_path / "flipped.pt"
    flipped.write_bytes(payload[:100] + bytes([payload[100] ^ 0xFF]) + payload[101:])
    for broken in (truncated, tmp_path / "text.pt"):
        if broken.name == "text.pt":
            broken.write_text("hello")
        with pytest.raises(ModelFileError, match=r"corrupt, truncated or not a torch file"):
            tc.load(broken)
    with pytest.raises((ModelFileError,)):
        tc.load(flipped)
    foreign = tmp_path / "state_dict.pt"
    torch.save(small_model().state_dict(), foreign)
    with pytest.raises(ModelFileError, match=r"not a tinyconv model file .*tinyconv.save"):
        tc.load(foreign)
    with pytest.raises(FileNotFoundError, match="no model file"):
        tc.load(tmp_path / "missing.pt")


class Payload:
    def __reduce__(self):
        return (Path.touch, (Path("/tmp/tinyconv-should-not-exist"),))


def test_no_pickled_code_is_ever_executed(tmp_path: Path) -> None:
    marker = Path("/tmp/tinyconv-should-not-exist")
    marker.unlink(missing_ok=True)
    path = tmp_path / "evil.pt"
    torch.save({"format": "tinyconv.model", "version": 1, "evil": Payload()}, path)
    with pytest.raises(ModelFileError):
        tc.load(path)
    assert not marker.exists()


def test_save_refuses_to_overwrite_and_checks_what_it_is_given(tmp_path: Path) -> None:
    path = tc.save(small_model(), tmp_path / "m.pt")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        tc.save(small_model(), path)
    with pytest.raises(ValueError, match="class_names has 2 names but the model has 3"):
        tc.save(small_model(), tmp_path / "n.pt", class_names=["a", "b"])
    with pytest.raises(ValueError, match="both mean and std"):
        tc.save(small_model(), tmp_path / "n.pt", mean=0.5)
    with pytest.raises(TypeError, match="only a TinyNet"):
        tc.save(torch.nn.Linear(2, 2), tmp_path / "n.pt")
    assert not (tmp_path / "n.pt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temporary files left
