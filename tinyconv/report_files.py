"""Saved JSON reports: read one of a known format, or find every one of a format in a folder.

Each report a command writes (``tinyconv export``'s ONNX and .tflite reports,
``tinyconv mcu``'s) is a JSON object whose ``format`` names its kind. :func:`read_report`
reads one and refuses, with one :class:`~tinyconv.ReportFileError`, a file that is missing, not
JSON, or of another kind; :func:`reports_in` lists the reports of one kind in a folder,
skipping every other JSON file there. The loaders of each report (``load_report``,
``load_tflite_report``, ``load_mcu_report``) and the docs' tables read through these two.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tinyconv.errors import ReportFileError

__all__ = ["read_report", "reports_in"]


def read_report(path: str | os.PathLike[str], report_format: str, kind: str) -> dict[str, Any]:
    """Read the report in ``path``, which must be of ``report_format``.

    Args:
        path: The ``.json`` file.
        report_format: The ``format`` it must record (``"tinyconv.mcu_report"``).
        kind: How the error names the report (``"microcontroller report"``).

    Returns:
        The report.

    Raises:
        ReportFileError: If it cannot be read, is not JSON, or is of another format.

    Example:
        >>> read_report("/nonexistent.json", "tinyconv.mcu_report", "microcontroller report")
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tinyconv.errors.ReportFileError: cannot read the microcontroller report ...
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportFileError(f"cannot read the {kind} {str(path)!r}: {error}") from None
    if not isinstance(data, dict) or data.get("format") != report_format:
        raise ReportFileError(
            f"{str(path)!r} is not a tinyconv {kind} (format {report_format}); give a file "
            "the command wrote"
        )
    return data


def reports_in(
    folder: str | os.PathLike[str], report_format: str, *, recursive: bool = False
) -> list[tuple[Path, dict[str, Any]]]:
    """Every report of ``report_format`` in ``folder``, by path; other JSON files are skipped.

    Args:
        folder: The folder (a missing one holds none).
        report_format: The ``format`` the reports record.
        recursive: Search the folders below too.

    Returns:
        ``(path, report)`` pairs, sorted by path.

    Raises:
        ReportFileError: For a file that names the format but is not valid JSON.

    Example:
        >>> reports_in("/nonexistent", "tinyconv.export_report")
        []
    """
    pattern = "**/*.json" if recursive else "*.json"
    found = []
    for path in sorted(Path(folder).glob(pattern)):
        text = path.read_text(encoding="utf-8")
        if f'"{report_format}"' not in text:  # most JSON files are not reports: skip parsing
            continue
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ReportFileError(f"cannot read {str(path)!r}: {error}") from None
        if isinstance(data, dict) and data.get("format") == report_format:
            found.append((path, data))
    return found
