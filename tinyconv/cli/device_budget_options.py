"""``--max-flash`` and ``--max-arena``: the device budgets, one definition for every command.

``tinyconv summary`` checks them on one model, ``tinyconv search`` refuses trials over
them; both against :func:`tinyconv.estimate_device` on a Cortex-M4.
"""

from __future__ import annotations

import argparse

__all__ = ["add_device_budget_arguments"]


def add_device_budget_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--max-flash BYTES`` and ``--max-arena BYTES``.

    Args:
        parser: The subcommand's parser.
        what: What the command does with a budget, ending the help (``"check it"``).
    """
    parser.add_argument(
        "--max-flash", type=int, default=None, metavar="BYTES",
        help=f"budget of the model's flash (its int8 .tflite), estimated: {what}",
    )  # fmt: skip
    parser.add_argument(
        "--max-arena", type=int, default=None, metavar="BYTES",
        help=f"budget of the TFLite Micro tensor arena, estimated: {what}",
    )  # fmt: skip
