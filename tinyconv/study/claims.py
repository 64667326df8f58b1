"""Locks between processes that share a study folder: one trainer per seed, one writer at a time.

Two processes may run the same study into the same folder (two terminals, two machines on a
shared disk). Before training a seed a process *claims* it (:func:`claim_seed`): it takes
an exclusive, non-blocking ``flock`` on ``<out>/<name>/seed<N>.lock`` and writes who it is
into the file. A second process finds the lock held and skips the seed, saying who trains
it. The operating system drops the lock when its holder exits, however it exits (``kill
-9`` included), so a claim never outlives its process. :class:`FileLock` (blocking) guards
the rebuild of the results file. Lock files are deleted on release.

Where the file system offers no locks (some network mounts), a claim is granted as if
uncontended: seeds may then be trained twice, but no finished seed is lost (each seed's
record has its own file, see :mod:`tinyconv.study.results`).
"""

from __future__ import annotations

import datetime
import errno
import os
import socket
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class FileLock:
    """An exclusive lock on a file between processes (``flock``), as a context manager.

    Args:
        path: The lock file (created if needed; its folder too).
        blocking: Wait for the lock (else :meth:`acquire` returns ``False`` at once).
        remove: Delete the lock file on release (not on Windows, where an open file
            cannot be deleted); a process that opened it meanwhile notices and retries.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "x.lock"
        >>> other = FileLock(path, blocking=False)
        >>> with FileLock(path):
        ...     other.acquire()
        False
        >>> other.acquire()
        True
        >>> other.release()
    """

    def __init__(self, path: Path, *, blocking: bool = True, remove: bool = True) -> None:
        self.path = Path(path)
        self.blocking = blocking
        self.remove = remove and fcntl is not None
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; return whether it was taken (always ``True`` when blocking)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            if not _lock(fd, self.blocking):
                os.close(fd)
                return False
            # The previous holder may have deleted the file after we opened it: then our
            # lock is on a name-less file, and we try again on the current one.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                return True
            os.close(fd)

    def write_note(self, text: str) -> None:
        """Replace the lock file's content with ``text`` (who holds it)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, text.encode())

    def release(self) -> None:
        """Drop the lock (deleting the file first if ``remove``); a no-op if not held."""
        if self._fd is None:
            return
        if self.remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _lock(fd: int, blocking: bool) -> bool:
    if fcntl is None:
        import msvcrt

        mode = msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK  # type: ignore[attr-defined]
        try:
            msvcrt.locking(fd, mode, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
            return True  # no locks on this file system: proceed unguarded (see module doc)
        raise
    return True


def claim_seed(path: Path) -> FileLock | None:
    """Claim a seed for this process, or return ``None`` if another process holds it.

    Args:
        path: The seed's claim file (``seed_paths(...)["claim"]``).

    Returns:
        The held claim (release it when the seed is saved; the file is then deleted), or
        ``None``; :func:`claim_holder` then says who holds it.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "seed0.lock"
        >>> mine = claim_seed(path)
        >>> claim_seed(path) is None, claim_holder(path).startswith("process ")
        (True, True)
        >>> mine.release(); path.exists()
        False
    """
    claim = FileLock(path, blocking=False)
    if not claim.acquire():
        return None
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    claim.write_note(f"process {os.getpid()} on {socket.gethostname()} since {now}")
    return claim


def claim_holder(path: Path) -> str:
    """Say who holds a seed's claim, as the holder wrote it (or that it is unknown).

    Example:
        >>> claim_holder(Path("/nonexistent/seed0.lock"))
        'another process'
    """
    try:
        text = Path(path).read_text().strip()
    except OSError:
        text = ""
    return text or "another process"
