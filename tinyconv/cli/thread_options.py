"""``--threads``: one option for every command that computes, applied by one rule.

:func:`add_threads_argument` adds it; :func:`apply_thread_option` sets torch's threads
(:func:`tinyconv.workers.apply_threads`: by default the cores other processes leave free)
and, on a terminal, warns when a ``--threads`` asked for is more than other processes
leave (:func:`tinyconv.workers.busy_machine_warning`). Off a terminal the warning stays
silent, so logs and scripts that read stderr see only errors.
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
        help="torch CPU threads (default: the cores other processes leave free, read when "
        "the command starts)",
    )


def apply_thread_option(args: argparse.Namespace) -> int:
    """Apply ``--threads`` (default: the free cores) and warn on a terminal if it asks too many.

    Args:
        args: Parsed arguments with ``threads``.

    Returns:
        The torch threads now in use.

    Raises:
        UsageError: If ``--threads`` is below 1.
    """
    from tinyconv.workers import apply_threads, busy_machine_warning

    threads = apply_threads(args.threads)
    if args.threads is not None and sys.stderr.isatty():
        warning = busy_machine_warning(threads)
        if warning:
            print(warning, file=sys.stderr)
    return threads
