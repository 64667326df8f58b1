"""One model file: save in one process, load in a fresh one with nothing but tinyconv, same
logits on real images; corrupt, truncated and foreign files are refused; no code unpickled."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from damaged_files import archive_offsets, damaged_copies

import tinyconv as tc
from tinyconv._digest import content_digest
from tinyconv.data import TensorLoader
from tinyconv.errors import ModelFileError
from tinyconv.train import TrainConfig, fit, save_checkpoint
from tinyconv.train.history import History
from tinyconv.train.optim import build_optimizer
from tinyconv.train.seed import rng_state

REPO = Path(__file__).resolve().parents[1]
COMMITTED = sorted(REPO.glob("results/**/*.model.pt"))

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
        model, tmp_path / "net.model.pt", class_names=mnist_test.class_names,
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
    assert out.strip() == "7 Normalization(mean=(0.1307,), std=(0.3081,)) mnist {'note': 'test'}"
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


def loaded_content(model: tc.TinyNet) -> str:
    """One digest of everything a loaded model file gave back: weights, specs, record."""
    return content_digest(
        {
            "state": model.state_dict(),
            "architecture": model.architecture(),
            "class_names": model.class_names,
            "normalization": model.normalization and model.normalization.to_dict(),
            "dataset": model.dataset,
            "metadata": model.metadata,
        }
    )


def tensor_offsets(path: Path) -> set[int]:
    """Offsets of every stored tensor byte: damage there must never load."""
    import struct
    import zipfile

    data = path.read_bytes()
    found: set[int] = set()
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if "/data/" in info.filename and not info.filename.endswith("serialization_id"):
                start = info.header_offset
                name_len, extra_len = struct.unpack("<HH", data[start + 26 : start + 30])
                begin = start + 30 + name_len + extra_len
                found |= set(range(begin, begin + info.file_size))
    return found


def check_damage_is_refused(path: Path, folder: Path) -> float:
    """Damage ``path`` everywhere: each copy is refused naming it, or loads bit-identical.

    Returns the fraction refused (damage to zip header fields that torch does not read,
    or to an unused pickle memo index, changes nothing and loads the same model).
    """
    intact = loaded_content(tc.load(path))
    inside_tensors = tensor_offsets(path)
    refused = tried = 0
    for what, copy in damaged_copies(path, archive_offsets(path), folder):
        tried += 1
        try:
            loaded = tc.load(copy)
        except ModelFileError as error:
            assert str(copy) in str(error), (what, error)
            refused += 1
            continue
        offset = int(what.split()[1]) if what.startswith("byte") else -1
        assert offset not in inside_tensors, f"{what}: a damaged tensor loaded"
        assert loaded_content(loaded) == intact, f"{what}: loaded something else"
    return refused / tried


def test_a_damaged_model_file_is_refused_or_loads_bit_identical(tmp_path: Path) -> None:
    path = tc.save(
        small_model(), tmp_path / "m.pt", class_names=["a", "b", "c"], mean=0.5, std=0.25,
        dataset="mnist", metadata={"seed": 3, "note": "x"},
    )  # fmt: skip
    assert check_damage_is_refused(path, tmp_path / "damaged") > 0.6


def test_the_issue_s_64_flipped_bytes_in_a_committed_model_file_are_refused(
    tmp_path: Path,
) -> None:
    """Issue 21: 64 bytes flipped in the middle of a seed's model file loaded without a word."""
    source = REPO / "results/fashion/fashion_v5/seed0.model.pt"
    data = bytearray(source.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(byte ^ 0xFF for byte in data[middle : middle + 64])
    damaged = tmp_path / "seed0.model.pt"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"seed0\.model\.pt' is damaged: .*CRC-32"):
        tc.load(damaged)


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(REPO / "results")))
def test_every_committed_model_file_still_loads(path: Path) -> None:
    """Files that predate the digest (version 1) load checked against the archive CRCs."""
    payload = torch.load(path, weights_only=True)
    assert payload["version"] in (1, 2) and ("digest" in payload) == (payload["version"] == 2)
    model = tc.load(path)
    recorded = model.metadata.get("final_test_acc", model.metadata.get("val_acc"))
    # every committed model is trained: far above chance (10 %); the weakest are the
    # 2,000-parameter FashionMNIST models trained 5 epochs from scratch (83.9 %)
    assert model.dataset in ("mnist", "fashion_mnist") and recorded > 0.8


def test_damage_to_a_committed_version_1_model_file_is_refused(tmp_path: Path) -> None:
    path = REPO / "results/cpu/mnist_v5/seed0.model.pt"
    assert check_damage_is_refused(path, tmp_path / "damaged") > 0.6


def test_a_damaged_fit_checkpoint_of_a_tinynet_is_refused_by_load(tmp_path: Path) -> None:
    model = small_model()
    config = TrainConfig(device="cpu")
    path = save_checkpoint(
        tmp_path / "last.ckpt", model=model, optimizer=build_optimizer(model, config),
        scheduler=None, epoch=1, config=config, history=History(), rng=rng_state(),
    )  # fmt: skip
    tc.load(path)
    for offset in sorted(tensor_offsets(path))[::7]:  # weights, RNG states
        data = bytearray(path.read_bytes())
        data[offset] ^= 0xFF
        copy = tmp_path / "damaged.ckpt"
        copy.write_bytes(bytes(data))
        with pytest.raises(ModelFileError, match=r"damaged\.ckpt' is damaged: its content"):
            tc.load(copy)


def test_a_model_saved_with_its_dataset_takes_raw_images_in_a_fresh_process(
    tmp_path: Path, mnist_root: Path
) -> None:
    from tinyconv.data import load_dataset
    from tinyconv.train import predict

    model = tc.build([tc.ConvSpec(out_channels=4), tc.GAPHeadSpec(num_classes=10)], seed=3)
    path = tmp_path / "digits.model.pt"
    tc.save(model, path, dataset="mnist")  # no class names or normalisation given
    code = (
        "import sys, tinyconv\n"
        "from tinyconv.data import load_dataset\n"
        "from tinyconv.errors import ModelInputError\n"
        "from tinyconv.train import predict\n"
        "model = tinyconv.load(sys.argv[1]).eval()\n"
        "images = load_dataset('mnist', sys.argv[2], train=False).images[:64]\n"
        "print(predict(model, images).tolist())\n"
        "try:\n"
        "    model(images.float())\n"
        "except ModelInputError as error:\n"
        "    print('refused:', error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), str(mnist_root)],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    printed, refusal = done.stdout.splitlines()
    images = load_dataset("mnist", mnist_root, train=False).images[:64]
    expected = predict(model.eval(), images, mean=0.1307, std=0.3081)  # MNIST's, by hand
    assert printed == str(expected.tolist())
    assert refusal.startswith("refused:") and "0..255" in refusal
    with pytest.raises(ValueError, match="the model has 4 classes but mnist has 10"):
        four = tc.build([tc.GAPHeadSpec(num_classes=4)])
        tc.save(four, tmp_path / "four.pt", dataset="mnist")
