"""Where a result came from: date, tinyconv and torch versions, git commit; one owner.

Every report records it: a study's seeds (:func:`provenance`), and the export and
microcontroller reports (:func:`environment`: the same facts with the versions of the
runtimes they used).

Each finished seed records its :func:`provenance` in the results file, and a study that
skips a finished seed says where it came from (:func:`describe_origin`), so nobody takes a
seed trained elsewhere (say the committed H100 seeds) for one they just reproduced.
Results written before provenance existed say what they know: the device. The
microcontroller report (:mod:`tinyconv.mcu`) records the same facts.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PROVENANCE_KEY = "provenance"


def provenance() -> dict[str, Any]:
    """Return the facts of this run that a result should carry beside its device.

    Returns:
        ``finished_at`` (UTC, ISO 8601 to the second), ``tinyconv_version``,
        ``torch_version``, ``git_commit`` (of the checkout tinyconv runs from, ``None``
        when it is not one) and ``git_dirty`` (whether ``tinyconv/`` there has
        uncommitted changes; ``None`` without a checkout).

    Example:
        >>> sorted(provenance())
        ['finished_at', 'git_commit', 'git_dirty', 'tinyconv_version', 'torch_version']
    """
    import torch

    from tinyconv._version import __version__

    commit, dirty = _git_state()
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    return {
        "finished_at": now,
        "tinyconv_version": __version__,
        "torch_version": torch.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
    }


def environment(packages: Sequence[str] = ()) -> dict[str, Any]:
    """Return what a report records about where it was made: :func:`provenance` and more.

    Args:
        packages: Distributions whose installed versions the report depends on
            (``"onnxruntime"``, ``"litert-torch"``, ...); one not installed is left out.

    Returns:
        :func:`provenance`'s facts, each named package's version under its name, and
        ``python`` and ``machine``.

    Example:
        >>> facts = environment(["torch", "no-such-distribution"])
        >>> "torch" in facts and "no-such-distribution" not in facts and "git_commit" in facts
        True
    """
    import platform
    from importlib import metadata

    found = provenance()
    for package in packages:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    found["python"] = platform.python_version()
    found["machine"] = platform.machine()
    return found


def pin_code_state() -> None:
    """Read the checkout's commit now, for every later :func:`provenance` of this process.

    So a result reports the code the process started with, even if the checkout moves on
    while it trains. A study calls it before training: a seed finished an hour later must
    not record the commit someone checked out in between.

    Example:
        >>> pin_code_state()
        >>> _git_state.cache_info().currsize
        1
    """
    _git_state()


@functools.cache
def _git_state() -> tuple[str | None, bool | None]:
    """The commit and dirtiness of the git checkout holding this tinyconv, if it is one."""
    package = Path(__file__).resolve().parent  # tinyconv/

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(package.parent), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != package.parent:
            return None, None  # installed inside some other repository
        commit = git("rev-parse", "HEAD")
        changes = git("status", "--porcelain", "--untracked-files=no", "--", package.name)
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(changes)


def describe_origin(result: Mapping[str, Any]) -> str:
    """Say where and when a finished seed was trained, as far as its result records it.

    Args:
        result: One seed's result from a results file.

    Returns:
        A phrase to follow "already finished", e.g. ``"on cpu on 2026-03-01 10:00 UTC with
        tinyconv 0.2.0 at commit 1a2b3c4d5e6f"``.

    Example:
        >>> describe_origin({"device_name": "NVIDIA H100 80GB HBM3"})
        'on NVIDIA H100 80GB HBM3 (date, tinyconv version and commit not recorded: an older tinyconv wrote it)'
        >>> describe_origin({"device_name": "cpu", "provenance": {
        ...     "finished_at": "2026-03-01T10:00:00+00:00", "tinyconv_version": "0.2.0",
        ...     "git_commit": "1a2b3c4d5e6f7a8b", "git_dirty": True}})
        'on cpu on 2026-03-01 10:00 UTC with tinyconv 0.2.0 at commit 1a2b3c4d5e6f (with uncommitted changes)'
    """  # noqa: E501
    device = f"on {result.get('device_name') or result.get('device') or 'an unrecorded device'}"
    facts = result.get(PROVENANCE_KEY)
    if not isinstance(facts, Mapping):
        return (
            f"{device} (date, tinyconv version and commit not recorded: an older tinyconv wrote it)"
        )
    when = str(facts.get("finished_at") or "an unrecorded date")
    if "T" in when:
        when = when.replace("T", " ")[:16] + " UTC"
    text = f"{device} on {when} with tinyconv {facts.get('tinyconv_version', '?')}"
    commit = facts.get("git_commit")
    if commit:
        text += f" at commit {str(commit)[:12]}"
        if facts.get("git_dirty"):
            text += " (with uncommitted changes)"
    return text
