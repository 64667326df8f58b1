"""Where commands write: destinations checked before the work, folders published whole.

Two kinds of output:

- **One file** (a model file, a recipe JSON): :func:`check_output_file` refuses, before
  any work, a path that is a folder, a file that exists (unless ``overwrite``), or a
  folder that is missing or cannot be written; :func:`~tinyconv.atomic.atomic_write`
  then writes the file whole.
- **A folder of files made together** (``tinyconv report``, ``tinyconv export``):
  :func:`output_folder` builds the set in a hidden staging folder beside the target
  (``.<name>.<host>-<pid>-<random>.partial``) and renames it into place only once every
  file is written. Ctrl-C or an error removes the staging folder (and any parent folder
  it created), so there is never a partial folder; a staging folder left by a run killed
  outright (``kill -9``) is removed by the next run for the same target
  (:func:`remove_abandoned`). A finished folder never mixes files of two runs: a folder
  that holds files already is refused unless ``overwrite``, which replaces it whole, and
  only when everything in it is an earlier output of the same command (``owns``), so a
  folder of other files is never deleted.

Refusals are :class:`~tinyconv.errors.OutputPathError` (or its subclass
:class:`~tinyconv.errors.OutputExistsError`), each naming the path and the fix, so the
``tinyconv`` command prints them as one ``error:`` line.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

from tinyconv.errors import OutputExistsError, OutputPathError

__all__ = ["check_output_file", "check_writable_folder", "output_folder", "remove_abandoned"]


def _listing(names: list[str], limit: int = 3) -> str:
    """``'a, b, c and 4 more'``."""
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _existing_ancestor(path: Path) -> Path:
    """The nearest of ``path`` and its ancestors that exists."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(path.anchor or "/")


def check_writable_folder(path: str | os.PathLike[str], *, flag: str = "--out") -> Path:
    """Check that folder ``path`` exists and can be written, or could be created.

    The nearest existing folder on the way is probed by making (and removing) an empty
    folder in it, so a read-only folder or file system is found whoever runs the check.

    Args:
        path: The folder.
        flag: How to name the path in messages.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OutputPathError: If ``path`` or a folder on the way is a file, or the nearest
            existing folder cannot be written.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> check_writable_folder(folder / "new" / "run").name
        'run'
        >>> _ = (folder / "notes.txt").write_text("mine")
        >>> check_writable_folder(folder / "notes.txt" / "run")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.errors.OutputPathError: '.../notes.txt' is a file, not a folder; give a folder for the outputs
    """  # noqa: E501
    target = Path(path)
    absolute = Path(os.path.abspath(target))
    ancestor = _existing_ancestor(absolute)
    if not ancestor.is_dir():
        what = f"{flag} {str(target)!r}" if ancestor == absolute else f"{str(ancestor)!r}"
        raise OutputPathError(f"{what} is a file, not a folder; give a folder for the outputs")
    probe = ancestor / f".tinyconv-probe-{secrets.token_hex(4)}"
    try:
        os.mkdir(probe)
    except OSError as error:
        raise OutputPathError(
            f"cannot write in {str(ancestor)!r} ({_reason(error)}); give an {flag} where you "
            "can write"
        ) from None
    os.rmdir(probe)
    return target


def check_output_file(
    path: str | os.PathLike[str], *, overwrite: bool = False, flag: str = "--out"
) -> Path:
    """Check, before any work, that one output file can be written at ``path``.

    Args:
        path: The file to write.
        overwrite: Whether an existing file may be replaced.
        flag: How to name the path in messages (``--out``, ``path``).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        OutputExistsError: If the file exists and ``overwrite`` is false.
        OutputPathError: If ``path`` is a folder, its folder does not exist or is a file,
            or its folder cannot be written.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> check_output_file(folder / "best.json").name
        'best.json'
        >>> check_output_file(folder)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.errors.OutputPathError: --out '...' is a folder; give a file name, e.g. '.../best.json'
    """  # noqa: E501
    target = Path(path)
    if target.is_dir():
        raise OutputPathError(
            f"{flag} {str(target)!r} is a folder; give a file name, e.g. "
            f"{str(target / 'best.json')!r}"
        )
    if os.path.lexists(target) and not overwrite:
        raise OutputExistsError(
            f"{flag} {str(target)!r} exists; choose another name, or replace it with "
            "--overwrite (overwrite=True in Python)"
        )
    parent = Path(os.path.abspath(target)).parent
    if not parent.is_dir():
        ancestor = _existing_ancestor(parent)
        if not ancestor.is_dir():
            raise OutputPathError(f"{str(ancestor)!r} is a file, not a folder; fix {flag}")
        raise OutputPathError(
            f"cannot write {str(target)!r}: folder {str(parent)!r} does not exist; create it first"
        )
    check_writable_folder(parent, flag=flag)
    return target


def _check_target(
    target: Path,
    shown: str,
    *,
    overwrite: bool,
    owns: Callable[[str], bool],
    command: str,
    flag: str,
) -> None:
    """Refuse a target that is a file, holds files (without ``overwrite``) or others' files."""
    if os.path.lexists(target) and not target.is_dir():
        raise OutputPathError(f"{flag} {shown!r} is a file; give a folder for the outputs")
    if not target.is_dir():
        return
    entries = sorted(os.listdir(target))
    if not entries:
        return
    if not overwrite:
        raise OutputExistsError(
            f"{flag} {shown!r} already holds {len(entries)} file(s) ({_listing(entries)}); give "
            f"a new folder, or add --overwrite (overwrite=True in Python) to replace it whole "
            f"with this run's outputs"
        )
    foreign = [name for name in entries if not ((target / name).is_file() and owns(name))]
    if foreign:
        raise OutputPathError(
            f"--overwrite replaces only a folder of an earlier {command}, but {shown!r} also "
            f"holds {_listing(foreign)}; give another {flag} (tinyconv never deletes files it "
            "did not write)"
        )
    if not os.access(target, os.W_OK):
        raise OutputPathError(f"{flag} {shown!r} is read-only; give an {flag} where you can write")


def _make_parents(folder: Path, flag: str) -> list[Path]:
    """Create ``folder`` and missing ancestors; return the ones created, outermost first."""
    missing = []
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate):
            break
        missing.append(candidate)
    created: list[Path] = []
    for candidate in reversed(missing):
        try:
            os.mkdir(candidate)
        except OSError as error:
            _remove_empty(created)
            raise OutputPathError(
                f"cannot create {str(candidate)!r} ({_reason(error)}); give an {flag} where "
                "you can write"
            ) from None
        created.append(candidate)
    return created


def _remove_empty(folders: list[Path]) -> None:
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _sibling(target: Path, suffix: str) -> Path:
    """``.<name>.<host>-<pid>-<token>.<suffix>``: who made it, so a dead maker's can go."""
    owner = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    return target.parent / f".{target.name}.{owner}.{suffix}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_abandoned(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the staging folders of ``target`` whose process died before it finished.

    A run killed outright (``kill -9``, a power cut) cannot clean up after itself: its
    hidden ``.<name>.<host>-<pid>-<token>.partial`` folder stays beside ``target``.
    The next :func:`output_folder` of the same target calls this first; it removes only
    folders made on this host by a process that no longer exists, so a run still at work
    (here or on another host sharing the folder) keeps its own.

    Args:
        target: The output folder.

    Returns:
        The folders removed.

    Example:
        >>> import subprocess, sys, tempfile
        >>> parent = Path(tempfile.mkdtemp())
        >>> dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
        ...                       capture_output=True, text=True).stdout.strip()
        >>> host = socket.gethostname()
        >>> (parent / f".out.{host}-{dead}-0a1b2c3d.partial").mkdir()
        >>> (parent / f".out.{host}-{os.getpid()}-0a1b2c3d.partial").mkdir()  # alive: this one
        >>> [p.name.split("-")[-2] for p in remove_abandoned(parent / "out")] == [dead]
        True
        >>> len(list(parent.iterdir()))
        1
    """
    target = Path(target)
    made = re.compile(
        rf"^\.{re.escape(target.name)}\.(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{{8}}\.partial$"
    )
    removed = []
    with contextlib.suppress(OSError):
        for path in sorted(target.parent.iterdir()):
            found = made.match(path.name)
            if (
                found
                and path.is_dir()
                and found["host"] == socket.gethostname()
                and not _alive(int(found["pid"]))
            ):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


def _sync(folder: Path) -> None:
    """Flush every file in ``folder`` and the folder itself to disk (before the rename)."""
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    with contextlib.suppress(OSError):  # folders cannot be opened on every platform
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _publish(staging: Path, target: Path, shown: str, check: Callable[[], None]) -> None:
    """Move the finished ``staging`` folder to ``target``, replacing what ``check`` allows."""
    _sync(staging)
    check()  # again: another process may have written there while this one worked
    if not os.path.lexists(target):
        try:
            os.rename(staging, target)
        except OSError as error:
            if target.is_dir() and os.listdir(target):
                raise OutputExistsError(
                    f"{shown!r} was filled by another process while this one worked; give "
                    "another folder"
                ) from None
            raise OutputPathError(f"cannot create {shown!r} ({_reason(error)})") from None
        return
    old = _sibling(target, "old")
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def output_folder(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    owns: Callable[[str], bool],
    command: str,
    flag: str = "--out",
) -> Iterator[Path]:
    """Build a folder of outputs aside and move it into place whole when the block ends.

    The checks run on entry, before any work: ``path`` must not be a file; a folder that
    holds files is refused unless ``overwrite``, and then every file in it must be one
    ``owns`` recognises (an earlier output of ``command``); its folder must be writable.
    The block writes into the staging folder it receives. On a clean exit the staging
    folder replaces ``path`` (two renames; the old folder is then deleted); on an error
    or Ctrl-C it is removed, with any parent folders this call created, and ``path`` is
    left as it was.

    Args:
        path: The output folder.
        overwrite: Replace a folder that holds an earlier output of ``command``.
        owns: Says whether a file name is one ``command`` writes (only such files may be
            replaced).
        command: What writes the folder, for messages (``"tinyconv report"``).
        flag: How to name the path in messages.

    Yields:
        The staging folder to write the outputs into.

    Raises:
        OutputPathError: If ``path`` is a file, holds files ``command`` did not write
            (with ``overwrite``), or cannot be written.
        OutputExistsError: If ``path`` holds files and ``overwrite`` is false.

    Example:
        >>> import tempfile
        >>> target = Path(tempfile.mkdtemp()) / "report"
        >>> with output_folder(target, owns=lambda name: True, command="an example") as f:
        ...     _ = (f / "index.html").write_text("<p>hi</p>")
        ...     target.exists()  # nothing there until the block ends
        False
        >>> sorted(p.name for p in target.iterdir())
        ['index.html']
        >>> with output_folder(target, owns=lambda name: True, command="an example") as f:
        ...     pass  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.errors.OutputExistsError: --out '.../report' already holds 1 file(s) (index.html); give a new folder, or add --overwrite (overwrite=True in Python) to replace it whole with this run's outputs
    """  # noqa: E501
    shown = str(path)
    target = Path(os.path.realpath(path))  # a link to a folder: the folder it points to
    if target.parent == target:
        raise OutputPathError(f"{flag} {shown!r} is the root folder; give a folder for outputs")

    def check() -> None:
        _check_target(target, shown, overwrite=overwrite, owns=owns, command=command, flag=flag)

    check()
    created = _make_parents(target.parent, flag)
    remove_abandoned(target)  # a killed earlier run's staging folder, never mistaken for output
    staging = _sibling(target, "partial")
    try:
        os.mkdir(staging)
    except OSError as error:
        _remove_empty(created)
        raise OutputPathError(
            f"cannot write in {str(target.parent)!r} ({_reason(error)}); give an {flag} where "
            "you can write"
        ) from None
    try:
        yield staging
        _publish(staging, target, shown, check)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created)
        raise
