"""Where a study lives: a journal file by default, an RDB URL for many machines.

- ``None`` (the default): Optuna's journal file ``<out>/search.journal``. No server;
  any number of processes on one machine (or on machines sharing that disk) join it.
- ``journal:PATH`` or a path ending in ``.journal``: a journal file elsewhere.
- ``sqlite:///PATH``: an SQLite file through Optuna's RDB storage.
- ``postgresql+psycopg://USER:PASSWORD@HOST/DB`` (or ``mysql+...``): a database
  server that workers on many machines join.

RDB storages get Optuna's heartbeat: a running trial whose worker stops beating for
:data:`GRACE_PERIOD_S` seconds is marked FAIL by the next worker that starts a trial,
and :class:`optuna.storages.RetryHeartbeatStaleTrialCallback` queues it again.
Optuna's journal storage has no heartbeat; there the workers themselves fail and
re-queue the trials of dead processes on their own machine
(:func:`~tinyconv.search.reap_dead_trials`).
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from tinyconv.errors import OutputPathError
from tinyconv.search.errors import UnknownStorageError

__all__ = [
    "DEFAULT_JOURNAL",
    "GRACE_PERIOD_S",
    "HEARTBEAT_INTERVAL_S",
    "MAX_RETRY",
    "check_storage_url",
    "journal_path",
    "open_storage",
    "quiet_experimental",
    "retry_callback",
    "safe_url",
]

DEFAULT_JOURNAL = "search.journal"
"""File name of the default journal storage inside the output folder."""

HEARTBEAT_INTERVAL_S = 10
"""Seconds between a running trial's heartbeats (RDB storages)."""

GRACE_PERIOD_S = 40
"""Seconds without a heartbeat after which a running trial counts as stale (RDB)."""

MAX_RETRY = 2
"""How many times a trial whose worker died is queued again."""

_RDB_SCHEMES = ("sqlite", "postgresql", "mysql")


@contextlib.contextmanager
def quiet_experimental() -> Iterator[None]:
    """Silence Optuna's ExperimentalWarning (heartbeat and retry are marked experimental)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def retry_callback() -> Any:
    """Return Optuna's callback that re-queues a failed (stale) trial.

    Returns:
        A ``RetryHeartbeatStaleTrialCallback`` (``RetryFailedTrialCallback`` before
        Optuna 4.9) that re-queues a trial up to :data:`MAX_RETRY` times.
    """
    storages = optuna.storages
    retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
    retry = retry or storages.RetryFailedTrialCallback
    with quiet_experimental():
        return retry(max_retry=MAX_RETRY)


def safe_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, for messages and logs.

    Args:
        url: A storage URL.

    Returns:
        The URL without its password.

    Example:
        >>> safe_url("postgresql+psycopg://ana:s3cret@db.lan/search")
        'postgresql+psycopg://ana:***@db.lan/search'
    """
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


def journal_path(url: str | None, out: str | os.PathLike[str]) -> Path | None:
    """Return the journal file a storage URL names, or ``None`` for a database URL.

    Args:
        url: As for :func:`open_storage`.
        out: The search's output folder.

    Returns:
        The journal file's path (it may not exist yet), or ``None``.

    Example:
        >>> str(journal_path(None, "runs/s")), str(journal_path("journal:/tmp/a.log", "x"))
        ('runs/s/search.journal', '/tmp/a.log')
        >>> journal_path("sqlite:///s.db", "runs/s") is None
        True
    """
    if url is None:
        return Path(out) / DEFAULT_JOURNAL
    if url.startswith("journal:"):
        return Path(url.removeprefix("journal:"))
    if "://" not in url and url.endswith(".journal"):
        return Path(url)
    return None


def _journal(path: Path) -> JournalStorage:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    except OSError as error:  # a read-only folder, a file where a folder belongs
        raise OutputPathError(
            f"cannot write the search journal {str(path)!r} "
            f"({error.strerror or type(error).__name__}); give an --out (or --storage) where "
            "you can write"
        ) from None


def _rdb(url: str) -> RDBStorage:
    import sqlalchemy.exc

    kwargs: dict[str, Any] = {"heartbeat_interval": HEARTBEAT_INTERVAL_S}
    kwargs["grace_period"] = GRACE_PERIOD_S
    if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):
        kwargs["heartbeat_stale_trial_callback"] = retry_callback()
    else:  # Optuna < 4.9
        kwargs["failed_trial_callback"] = retry_callback()
    engine: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine = {"connect_args": {"timeout": 60}}  # wait for the lock instead of failing
    try:
        with quiet_experimental():
            return RDBStorage(url, engine_kwargs=engine, **kwargs)
    except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError) as error:
        raise UnknownStorageError(
            f"storage URL {safe_url(url)!r} names no database driver that is installed "
            f"({error}); for PostgreSQL use postgresql+psycopg://USER:PASSWORD@HOST/DB "
            "(pip install 'tinyconv[search]')"
        ) from error
    except sqlalchemy.exc.OperationalError as error:
        first = str(error.orig or error).strip().splitlines()[0]
        raise UnknownStorageError(
            f"cannot reach the study database {safe_url(url)!r}: {first}"
        ) from error
    except ImportError as error:
        raise UnknownStorageError(
            f"storage URL {safe_url(url)!r} needs a driver that is not installed "
            f"({error}); pip install 'tinyconv[search]' brings psycopg for PostgreSQL"
        ) from error


def open_storage(url: str | None, out: str | os.PathLike[str]) -> BaseStorage:
    """Open the storage a search command names.

    Args:
        url: ``None`` for ``<out>/search.journal``, ``journal:PATH``, a ``*.journal``
            path, or an RDB URL (``sqlite:///...``, ``postgresql+psycopg://...``).
        out: The search's output folder.

    Returns:
        An Optuna storage that many processes may share.

    Raises:
        UnknownStorageError: For any other URL, a missing database driver, or a
            database that cannot be reached; the message lists the accepted forms.
        OutputPathError: If a journal file cannot be created where it belongs.

    Example:
        >>> open_storage("redis://localhost", "runs/s")
        Traceback (most recent call last):
        ...
        tinyconv.search.errors.UnknownStorageError: unknown storage 'redis://localhost'; use none (a journal file in the output folder), journal:PATH, a PATH ending in .journal, sqlite:///PATH, or postgresql+psycopg://USER:PASSWORD@HOST/DB
    """  # noqa: E501
    check_storage_url(url)
    journal = journal_path(url, out)
    if journal is not None:
        return _journal(journal)
    return _rdb(url)  # type: ignore[arg-type]  (checked: an RDB URL)


def check_storage_url(url: str | None) -> None:
    """Refuse a storage URL of a kind :func:`open_storage` cannot open, touching nothing.

    Args:
        url: As for :func:`open_storage`.

    Raises:
        UnknownStorageError: For a URL that is neither a journal nor an RDB URL.

    Example:
        >>> check_storage_url("sqlite:///search.db")  # an RDB URL: accepted
        >>> check_storage_url("ftp:x")
        Traceback (most recent call last):
        ...
        tinyconv.search.errors.UnknownStorageError: unknown storage 'ftp:x'; use none (a journal file in the output folder), journal:PATH, a PATH ending in .journal, sqlite:///PATH, or postgresql+psycopg://USER:PASSWORD@HOST/DB
    """  # noqa: E501
    if url is None or journal_path(url, ".") is not None:
        return
    scheme = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else ""
    if scheme not in _RDB_SCHEMES:
        raise UnknownStorageError(
            f"unknown storage {safe_url(url)!r}; use none (a journal file in the output "
            "folder), journal:PATH, a PATH ending in .journal, sqlite:///PATH, or "
            "postgresql+psycopg://USER:PASSWORD@HOST/DB"
        )
