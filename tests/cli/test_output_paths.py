"""Where commands write, in real subprocesses: one error line (exit 2) for an --out that is a
file, exists or is read-only; no half-written or mixed output folder after a second run, a
failure or Ctrl-C; no search journal left by a search that cannot start; and a Ctrl-C line
that promises to continue only where a command continues.

Read-only folders are real: the commands run as the unprivileged user ``nobody`` (through
``setpriv``) when the tests run as root, who may write anywhere.
"""

from __future__ import annotations

import contextlib
import json
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


_MANY = """
import contextlib, io, json, sys
from tinyconv.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        if argv[0] == "save":  # tinyconv.save as a user calls it, through the same guard
            import tinyconv as tc
            from tinyconv.cli import run_guarded
            status = run_guarded(lambda: tc.save(tc.load(argv[1]), argv[2]))
        else:
            status = main(argv)
    results.append([status, err.getvalue()])
print(json.dumps(results))
"""


def commands(
    *argvs: list[object], prefix: tuple[str, ...] = (), **environment: str
) -> list[subprocess.CompletedProcess[str]]:
    """Run several ``tinyconv`` commands one after another in one fresh process (one start-up
    instead of one each); ``["save", MODEL, PATH]`` calls ``tinyconv.save`` instead."""
    done = subprocess.run(
        [*prefix, sys.executable, "-c", _MANY, json.dumps([list(map(str, a)) for a in argvs])],
        capture_output=True, text=True, cwd=REPO, env=env(**environment), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return [
        subprocess.CompletedProcess(a, status, "", err)
        for a, (status, err) in zip(argvs, results, strict=True)
    ]


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
    refused, replaced = commands(
        ["report", V5_RESULTS, "--out", out], ["report", V5_RESULTS, "--out", out, "--overwrite"]
    )
    one_error_line(
        refused,
        "already holds 3 file(s) (budget.png, index.html, learning_curves.png)",
        "--overwrite",
    )
    assert replaced.returncode == 0, replaced.stderr
    assert listing(out) == ["index.html", "learning_curves.png"]  # no stale budget.png
    assert (out / "index.html").read_bytes() == before["index.html"]  # the same inputs
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
    first, refused, again = commands(
        ["export", model_file, "--out", out, "--int8", *QUICK_EXPORT],
        ["export", model_file, "--out", out, *QUICK_EXPORT],
        ["export", model_file, "--out", out, "--overwrite", *QUICK_EXPORT],
        TINYCONV_DATA=str(mnist_root),
    )
    assert first.returncode == 0, first.stderr
    one_error_line(
        refused,
        "already holds 3 file(s) (seed0.export.json, seed0.int8.onnx, seed0.onnx)",
        "--overwrite",
    )
    assert again.returncode == 0, again.stderr
    assert listing(out) == ["seed0.export.json", "seed0.onnx"]  # no stale seed0.int8.onnx
    (out / "notes.txt").write_text("mine")
    one_error_line(
        tinyconv("export", model_file, "--out", out, "--overwrite", *QUICK_EXPORT, data=mnist_root),
        "also holds notes.txt",
        "never deletes files it did not write",
    )
    assert listing(out) == ["notes.txt", "seed0.export.json", "seed0.onnx"]
    assert listing(tmp_path) == ["deploy"]


def interrupt_when_staging(
    args: list[object], parent: Path, data: Path, sig: int = signal.SIGINT
) -> subprocess.CompletedProcess[str]:
    """Start a command, send ``sig`` (Ctrl-C) once its staging folder exists, and wait."""
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
    process.send_signal(sig)
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
    # 130 from the command's own handler; now and then the interpreter, after the handler
    # has printed its line, ends by the signal itself (-2): a shell shows 130 for both
    assert done.returncode in (130, -signal.SIGINT), done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: interrupted; this command does not resume: run it again to start over"
    )
    assert listing(tmp_path) == []  # no folder, no staging folder


@pytest.mark.mnist
def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(
    model_file: Path, mnist_root: Path, tmp_path: Path
) -> None:
    # report here; export stages through the same output_folder (its law: remove_abandoned)
    out = tmp_path / "out"
    args: list[object] = ["report", model_file, "--out", out]
    done = interrupt_when_staging(args, tmp_path, mnist_root, signal.SIGKILL)
    assert done.returncode == -signal.SIGKILL
    left = listing(tmp_path)
    assert len(left) == 1 and left[0].startswith(".out.") and left[0].endswith(".partial")
    again = tinyconv(*args, data=mnist_root)
    assert again.returncode == 0, again.stderr
    assert listing(tmp_path) == ["out"]  # the dead run's staging folder is gone


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
    typo, no_data = commands(
        ["search", "mnst", "--trials", "1", "--out", tmp_path / "typo"],
        ["search", "mnist", "--trials", "1", "--out", tmp_path / "nodata", "--epochs", "1",
         "--data-dir", tmp_path / "no-data"],
    )  # fmt: skip
    one_error_line(typo, "unknown search space 'mnst'")
    one_error_line(no_data, "not found under data root")
    assert listing(tmp_path) == []


# --- an --out that is a file, exists, or is read-only ---------------------------------------


@pytest.mark.mnist
def test_an_out_that_names_a_file(model_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    afile = tmp_path / "taken"
    afile.write_text("mine")
    report, export, search, best_exists, best_folder, save_exists, save_folder = commands(
        ["report", V5_RESULTS, "--out", afile],
        ["export", model_file, "--out", afile],
        ["search", "mnist", "--trials", "1", "--out", afile],
        ["search-best", tmp_path, "--out", afile],
        ["search-best", tmp_path, "--out", tmp_path],
        ["save", model_file, afile],
        ["save", model_file, tmp_path],
    )
    for done in (report, export, search):
        one_error_line(done, "is a file; give a folder")
    one_error_line(best_exists, "exists; choose another name", "--overwrite")
    one_error_line(best_folder, "is a folder; give a file name")
    one_error_line(save_exists, "exists; pass overwrite=True")
    one_error_line(save_folder, "is a folder; give a file name")
    assert afile.read_text() == "mine" and listing(tmp_path) == ["taken"]
    with pytest.raises(OutputExistsError, match="overwrite=True"):  # and in Python
        tc.save(tc.load(model_file), afile)
    with pytest.raises(OutputPathError, match="is a folder; give a file name"):
        tc.save(tc.load(model_file), tmp_path)


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


def unprivileged() -> tuple[str, ...]:
    """A command prefix that drops to ``nobody`` when this is root (root writes anywhere)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    prefix = (setpriv, "--reuid=65534", "--regid=65534", "--clear-groups")
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import tinyconv"], capture_output=True, cwd="/"
    )
    if probe.returncode != 0:  # e.g. a checkout under a private (0700) temporary folder
        pytest.skip(f"user nobody cannot import tinyconv from {REPO}: make its folders readable")
    return prefix


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
        locked.mkdir()
        locked.chmod(0o555)
        home = shared / "home"
        home.mkdir()
        home.chmod(0o777)
        results = commands(
            ["report", V5_RESULTS, "--out", locked / "report"],
            ["export", model, "--out", locked / "deploy", *QUICK_EXPORT],
            ["search", "mnist", "--trials", "1", "--out", locked / "s", "--epochs", "1"],
            ["search-best", shared, "--out", locked / "best.json"],
            ["save", model, locked / "net.pt"],
            prefix=unprivileged(),
            HOME=str(home),
            MPLCONFIGDIR=str(home),
            TINYCONV_DATA=str(mnist_root),
        )
        for done in results[:4]:
            one_error_line(done, f"cannot write in {str(locked)!r} (Permission denied)")
        one_error_line(results[4], "cannot write the model file", "(Permission denied)")
        assert listing(locked) == []
