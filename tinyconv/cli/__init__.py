"""The ``tinyconv`` command (also ``python -m tinyconv``): one entry point, many subcommands.

Each subcommand is one module in :mod:`tinyconv.cli.commands` that defines ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``, and ``RESUMABLE = True`` if
running it again after Ctrl-C continues where it stopped; modules are discovered, so
a new subcommand is one new file. A subcommand imports optional extras inside ``run``,
so ``tinyconv --help`` works without them.

Errors tinyconv raises on purpose (:class:`~tinyconv.errors.TinyconvError`: data not
found, a corrupt file, a results file of another setting, a missing extra) are printed
as one ``error: ...`` line with exit status 2; anything else keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence

from tinyconv.errors import TinyconvError

__all__ = ["main", "run_guarded"]


def _commands() -> list[object]:
    from tinyconv.cli import commands

    return [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name)
        if not info.name.startswith("_")
    ]


class _DefaultsShown(argparse.HelpFormatter):
    """Help that ends each option with its default, where it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default is None
            or default is False
            or default in ([], "", argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    """Return the ``tinyconv`` argument parser with every discovered subcommand.

    Returns:
        The parser; ``args.run`` is the chosen subcommand's ``run``.
    """
    parser = argparse.ArgumentParser(
        prog="tinyconv",
        description="Compact CNNs with exact budgets: summarise, train, score, export.",
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _commands():
        command = sub.add_parser(
            module.NAME,  # type: ignore[attr-defined]
            help=module.HELP,  # type: ignore[attr-defined]
            description=module.HELP,  # type: ignore[attr-defined]
            allow_abbrev=False,  # --dataset must never silently mean --dataset-dir
            formatter_class=_DefaultsShown,
        )
        module.add_arguments(command)  # type: ignore[attr-defined]
        command.set_defaults(
            run=module.run,  # type: ignore[attr-defined]
            resumable=getattr(module, "RESUMABLE", False),
        )
    return parser


def one_line(error: BaseException) -> str:
    r"""Return an error's message on one line (several lines joined with spaces).

    Args:
        error: The exception.

    Returns:
        ``"error: <message>"``.

    Example:
        >>> one_line(ValueError("first\n  second"))
        'error: first second'
    """
    text = " ".join(part.strip() for part in str(error).splitlines() if part.strip())
    return f"error: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``tinyconv`` command.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 for a known error (printed as one line).
    """
    args = build_parser().parse_args(argv)
    return run_guarded(lambda: args.run(args), resumable=args.resumable)


def run_guarded(command: Callable[[], int | None], *, resumable: bool = True) -> int:
    """Run ``command``, printing a known error as one line instead of a traceback.

    Args:
        command: The work to do; returns an exit status or ``None`` for 0.
        resumable: Whether running the same command again continues the work; only then
            does the Ctrl-C line say so. :func:`main` passes each subcommand's
            ``RESUMABLE``; the default suits the library's other callers (a study's
            entry point, a search worker), whose work continues.

    Returns:
        Its exit status, 2 after a :class:`~tinyconv.errors.TinyconvError`, 130 after
        Ctrl-C. Any other exception propagates with its traceback.
    """
    try:
        return int(command() or 0)
    except TinyconvError as error:
        print(one_line(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if resumable:
            print("error: interrupted; rerun the same command to continue", file=sys.stderr)
        else:
            print(
                "error: interrupted; this command does not resume: run it again to start over",
                file=sys.stderr,
            )
        return 130
