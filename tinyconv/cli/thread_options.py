"""``--threads``: one option for every command that computes, applied by one rule.

:func:`add_threads_argument` adds it; :func:`apply_thread_option` sets torch's threads
(:func:`tinyconv.workers.apply_threads`) and, on a terminal, warns when other processes
keep the cores busy (:func:`tinyconv.workers.busy_machine_warning`). Off a terminal the
warning stays silent, so logs and scripts that read stderr see only errors.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_threads_argument", "apply_thread_option"]


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--threads T``.

    Args:
        parser: The subcommand's parser.
    """
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="T",
        help="torch CPU threads (default: torch's, one per core); on a busy machine "
        "--threads 1 is often faster",
    )


def apply_thread_option(args: argparse.Namespace) -> int:
    """Apply ``--threads`` and warn on a terminal if the machine is busy.

    Args:
        args: Parsed arguments with ``threads``.

    Returns:
        The torch threads now in use.

    Raises:
        UsageError: If ``--threads`` is below 1.
    """
    from tinyconv.workers import apply_threads, busy_machine_warning

    threads = apply_threads(args.threads)
    warning = busy_machine_warning(threads)
    if warning and sys.stderr.isatty():
        print(warning, file=sys.stderr)
    return threads
