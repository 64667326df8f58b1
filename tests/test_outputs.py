"""Output folders are published whole: the old set or the new set, never a mixture or a part."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyconv.errors import OutputExistsError, OutputPathError
from tinyconv.outputs import check_output_file, output_folder


def owns_png(name: str) -> bool:
    return name.endswith(".png") or name == "index.html"


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def hidden_leftovers(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(".")]


def test_nothing_is_there_until_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report"
    with output_folder(target, owns=owns_png, command="test") as staging:
        (staging / "index.html").write_text("page")
        assert not target.exists() and staging.parent == target.parent
    assert files(target) == {"index.html": b"page"}
    assert hidden_leftovers(target.parent) == []
    assert oct(target.stat().st_mode & 0o777) == oct(0o777 & ~_umask())  # not mkdtemp's 0o700


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_error_or_ctrl_c_leaves_nothing_not_even_the_parents(
    tmp_path: Path, error: BaseException
) -> None:
    target = tmp_path / "new" / "deeper" / "report"
    with pytest.raises(type(error)), output_folder(target, owns=owns_png, command="t") as staging:
        (staging / "a.png").write_bytes(b"half")
        raise error
    assert os.listdir(tmp_path) == []  # the folders it made for the target are gone too


def test_a_folder_with_files_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("old")
    with (
        pytest.raises(
            OutputExistsError, match=r"already holds 1 file\(s\) \(index.html\).*--overwrite"
        ),
        output_folder(tmp_path, owns=owns_png, command="t"),
    ):
        pytest.fail("the block must not run")  # pragma: no cover
    assert files(tmp_path) == {"index.html": b"old"}


def test_overwrite_replaces_the_whole_set(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "index.html").write_text("old page")
    (target / "stale.png").write_bytes(b"from the earlier run")
    with output_folder(target, overwrite=True, owns=owns_png, command="t") as staging:
        (staging / "index.html").write_text("new page")
    assert files(target) == {"index.html": b"new page"}  # stale.png did not survive
    assert hidden_leftovers(tmp_path) == []


@pytest.mark.parametrize("foreign", ["notes.txt", "sub/"])
def test_overwrite_never_deletes_what_the_command_did_not_write(
    tmp_path: Path, foreign: str
) -> None:
    (tmp_path / "index.html").write_text("old")
    if foreign.endswith("/"):
        (tmp_path / foreign).mkdir()
    else:
        (tmp_path / foreign).write_text("mine")
    with (
        pytest.raises(OutputPathError, match=rf"also holds {foreign.rstrip('/')}; give another"),
        output_folder(tmp_path, overwrite=True, owns=owns_png, command="t"),
    ):
        pytest.fail("the block must not run")  # pragma: no cover
    assert (tmp_path / "index.html").read_text() == "old"


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with (
        pytest.raises(OutputPathError, match="is a file; give a folder"),
        output_folder(tmp_path / "out", owns=owns_png, command="t"),
    ):
        pytest.fail("the block must not run")  # pragma: no cover
    with pytest.raises(OutputPathError, match="is a folder; give a file name"):
        check_output_file(tmp_path)
    with pytest.raises(OutputExistsError, match="exists; choose another name"):
        check_output_file(tmp_path / "out")
    assert check_output_file(tmp_path / "out", overwrite=True) == tmp_path / "out"


names = st.lists(
    st.sampled_from(["index.html", "a.png", "b.png", "c.png"]), unique=True, max_size=4
)


@settings(max_examples=40, deadline=None)
@given(old=names, new=names, fails=st.booleans(), overwrite=st.booleans())
def test_law_the_folder_holds_the_old_set_or_the_new_set(
    tmp_path_factory: pytest.TempPathFactory,
    old: list[str],
    new: list[str],
    fails: bool,
    overwrite: bool,
) -> None:
    parent = tmp_path_factory.mktemp("law")
    target = parent / "out"
    target.mkdir()
    for name in old:
        (target / name).write_bytes(b"old " + name.encode())
    before = files(target)
    try:
        with output_folder(target, overwrite=overwrite, owns=owns_png, command="t") as staging:
            for name in new:
                (staging / name).write_bytes(b"new " + name.encode())
            if fails:
                raise RuntimeError("the work failed")
    except (RuntimeError, OutputExistsError):
        assert files(target) == before
    else:
        assert not fails and (overwrite or not old)
        assert files(target) == {name: b"new " + name.encode() for name in sorted(new)}
    assert hidden_leftovers(parent) == []
