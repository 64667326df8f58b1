"""Where commands write, in real subprocesses: one error line (exit 2) for an --out that is a
file, exists or is read-only; no half-written or mixed output folder after a second run, a
failure or Ctrl-C; no search journal left by a search that cannot start; and a Ctrl-C line
that promises to continue only where a command continues.

Read-only folders are real: the commands run as the unprivileged user ``nobody`` (through
``setpriv``) when the tests run as root, who may write anywhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import tinyconv as tc
from tinyconv.cli import build_parser, run_guarded
from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.errors import OutputExistsError, OutputPathError
from tinyconv.train import TrainConfig, fit

REPO = Path(__file__).resolve().parents[2]
V5_RESULTS = REPO / "results" / "mnist_v5.json"
QUICK_EXPORT = ["--test-images", "200", "--calibration-images", "100", "--latency-runs", "3"]


def env(data: Path | None = None, **extra: str) -> dict[str, str]:
    values = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO), **extra)
    if data is not None:
        values["TINYCONV_DATA"] = str(data)
    return values


def tinyconv(*args: object, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinyconv", *map(str, args)],
        capture_output=True, text=True, cwd=REPO, env=env(data), timeout=300,
    )  # fmt: skip


def one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if not line.startswith("note: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.fixture(scope="module")
def model_file(mnist_train: ImageDataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small SE net trained for one epoch on 1,000 real MNIST images, as a model file."""
    model = tc.build(
        [
            tc.ConvSpec(out_channels=8),
            tc.TransitionSpec(out_channels=8),
            tc.ConvSpec(out_channels=12),
            tc.SESpec(rd_channels=4),
            tc.GAPHeadSpec(num_classes=10),
        ],
        seed=0,
    )
    loader = TensorLoader(mnist_train.subset(range(1000)), 50, shuffle=True, seed=0)
    fit(
        model,
        loader,
        TrainConfig(epochs=1, batch_size=50, optimizer="adam", lr=0.01, progress=False),
    )
    model.class_names = mnist_train.class_names
    model.normalization = mnist_train.normalization.to_dict()
    model.dataset = "mnist"
    return tc.save(model.eval(), tmp_path_factory.mktemp("model") / "seed0.model.pt")


# --- stale and half-written outputs -------------------------------------------------------


def test_a_second_report_is_refused_and_overwrite_replaces_the_set(tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert tinyconv("report", V5_RESULTS, "--out", out).returncode == 0
    (out / "budget.png").write_bytes(b"a figure of an earlier run")  # as a model report leaves
    before = {name: (out / name).read_bytes() for name in listing(out)}
    one_error_line(
        tinyconv("report", V5_RESULTS, "--out", out),
        "already holds 3 file(s) (budget.png, index.html, learning_curves.png)",
        "--overwrite",
    )
    assert {name: (out / name).read_bytes() for name in listing(out)} == before
    assert tinyconv("report", V5_RESULTS, "--out", out, "--overwrite").returncode == 0
    assert listing(out) == ["index.html", "learning_curves.png"]  # no stale budget.png
    assert listing(tmp_path) == ["report"]  # no staging or old folder left beside it


@pytest.mark.mnist
def test_a_failed_report_leaves_no_folder(model_file: Path, tmp_path: Path) -> None:
    """The budget figure is drawn before the test images are found missing."""
    out = tmp_path / "new" / "report"
    done = tinyconv("report", model_file, "--out", out, "--data-dir", tmp_path / "no-data")
    one_error_line(done, "not found under data root")
    assert listing(tmp_path) == []


@pytest.mark.mnist
def test_export_again_without_int8_never_leaves_the_old_int8_file(
    model_file: Path, mnist_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "deploy"
    first = tinyconv("export", model_file, "--out", out, "--int8", *QUICK_EXPORT, data=mnist_root)
    assert first.returncode == 0, first.stderr
    assert listing(out) == ["seed0.export.json", "seed0.int8.onnx", "seed0.onnx"]
    one_error_line(
        tinyconv("export", model_file, "--out", out, *QUICK_EXPORT, data=mnist_root),
        "already holds 3 file(s)",
        "--overwrite",
    )
    again = tinyconv(
        "export", model_file, "--out", out, "--overwrite", *QUICK_EXPORT, data=mnist_root
    )
    assert again.returncode == 0, again.stderr
    assert listing(out) == ["seed0.export.json", "seed0.onnx"]
    (out / "notes.txt").write_text("mine")
    one_error_line(
        tinyconv("export", model_file, "--out", out, "--overwrite", *QUICK_EXPORT, data=mnist_root),
        "also holds notes.txt",
        "never deletes files it did not write",
    )
    assert listing(out) == ["notes.txt", "seed0.export.json", "seed0.onnx"]
    assert listing(tmp_path) == ["deploy"]


def interrupt_when_staging(
    args: list[object], parent: Path, data: Path
) -> subprocess.CompletedProcess[str]:
    """Start a command, send Ctrl-C once its staging folder exists, and wait for it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tinyconv", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env(data),
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not any(name.endswith(".partial") for name in os.listdir(parent)):
        assert process.poll() is None, "the command ended before it staged anything"
        assert time.monotonic() < deadline, "no staging folder appeared"
        time.sleep(0.005)
    time.sleep(0.2)  # let it write a file or two into the staging folder
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.mnist
@pytest.mark.parametrize("command", ["report", "export"])
def test_ctrl_c_leaves_nothing_and_promises_no_continuation(
    command: str, model_file: Path, mnist_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    args: list[object] = [command, model_file, "--out", out]
    done = interrupt_when_staging(
        args + (["--int8"] if command == "export" else []), tmp_path, mnist_root
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: interrupted; this command does not resume: run it again to start over"
    )
    assert listing(tmp_path) == []  # no folder, no staging folder


def test_only_resumable_commands_say_rerun_to_continue(capsys: pytest.CaptureFixture[str]) -> None:
    resumable = {
        name: parser.get_default("resumable")
        for name, parser in build_parser()._subparsers._group_actions[0].choices.items()  # type: ignore[union-attr]
    }
    assert {name for name, value in resumable.items() if value} == {"study", "search"}

    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run_guarded(interrupted, resumable=True) == 130
    assert capsys.readouterr().err == "error: interrupted; rerun the same command to continue\n"
    assert run_guarded(interrupted, resumable=False) == 130
    assert "rerun the same command to continue" not in capsys.readouterr().err


# --- a search that cannot start leaves no journal -----------------------------------------


def test_a_search_that_cannot_start_leaves_no_journal(tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    one_error_line(
        tinyconv("search", "mnst", "--trials", "1", "--out", tmp_path / "typo"),
        "unknown search space 'mnst'",
    )
    one_error_line(
        tinyconv(
            "search", "mnist", "--trials", "1", "--out", tmp_path / "nodata",
            "--data-dir", tmp_path / "no-data", "--epochs", "1",
        ),
        "not found under data root",
    )  # fmt: skip
    assert listing(tmp_path) == []


# --- an --out that is a file, exists, or is read-only ---------------------------------------


def test_an_out_that_names_a_file(tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    afile = tmp_path / "taken"
    afile.write_text("mine")
    one_error_line(tinyconv("report", V5_RESULTS, "--out", afile), "is a file; give a folder")
    one_error_line(
        tinyconv("search", "mnist", "--trials", "1", "--out", afile), "is a file; give a folder"
    )
    one_error_line(
        tinyconv("search-best", tmp_path, "--out", afile),
        "exists; choose another name",
        "--overwrite",
    )
    one_error_line(tinyconv("search-best", tmp_path, "--out", tmp_path), "is a folder; give a file")
    assert afile.read_text() == "mine" and listing(tmp_path) == ["taken"]


@pytest.mark.mnist
def test_export_and_save_onto_a_file(model_file: Path, tmp_path: Path) -> None:
    afile = tmp_path / "taken"
    afile.write_text("mine")
    one_error_line(tinyconv("export", model_file, "--out", afile), "is a file; give a folder")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        tc.save(tc.load(model_file), afile)
    with pytest.raises(OutputPathError, match="is a folder; give a file name"):
        tc.save(tc.load(model_file), tmp_path)
    assert afile.read_text() == "mine"


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A folder every user may read (the pytest tmp folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="tinyconv-ro-"))
    try:
        folder.chmod(0o777)
        yield folder
    finally:
        for path in folder.rglob("*"):
            path.chmod(0o777)
        shutil.rmtree(folder)


def as_unprivileged(
    *args: object, home: Path, data: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command as ``nobody`` when this is root (root may write in read-only folders)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: a read-only folder cannot be made")
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    return subprocess.run(
        [*prefix, sys.executable, *map(str, args)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env=env(data, HOME=str(home), MPLCONFIGDIR=str(home)),
    )  # fmt: skip


@pytest.mark.mnist
def test_a_read_only_out_is_one_error_line_for_every_writer(
    model_file: Path, mnist_root: Path
) -> None:
    pytest.importorskip("optuna")
    with shared_folder() as shared:
        model = shared / "seed0.model.pt"
        shutil.copy(model_file, model)
        model.chmod(0o644)
        locked = shared / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        home = shared / "home"
        home.mkdir(mode=0o777)
        home.chmod(0o777)
        cases = {
            "report": ["report", V5_RESULTS, "--out", locked / "report"],
            "export": ["export", model, "--out", locked / "deploy", *QUICK_EXPORT],
            "search": ["search", "mnist", "--trials", "1", "--out", locked / "s", "--epochs", "1"],
            "search-best": ["search-best", shared, "--out", locked / "best.json"],
        }
        for name, args in cases.items():
            done = as_unprivileged("-m", "tinyconv", *args, home=home, data=mnist_root)
            one_error_line(done, f"cannot write in {str(locked)!r} (Permission denied)")
            assert listing(locked) == [], name
        code = (
            "import sys, tinyconv as tc\n"
            "from tinyconv.cli import run_guarded\n"
            f"sys.exit(run_guarded(lambda: tc.save(tc.load({str(model)!r}), "
            f"{str(locked / 'net.pt')!r})))"
        )
        done = as_unprivileged("-c", code, home=home)
        one_error_line(done, "cannot write the model file", "(Permission denied)")
        assert listing(locked) == []
