"""How tinyconv writes numbers and tables for people: one owner for every report and page.

Percentages (:func:`percent`, :func:`percent_spread` over seeds, :func:`signed_points` for
differences) and reStructuredText
list-tables (:func:`list_table`, and :func:`column_table` for reports side by side) are
written the same way by the study tables, the export and microcontroller reports, the HTML
report and the docs build.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

__all__ = ["column_table", "list_table", "percent", "percent_spread", "signed_points"]


def percent(value: float | None, digits: int = 2) -> str:
    """Write a fraction as a percentage; ``None`` (not measured) as ``-``.

    Args:
        value: A fraction (``0.994``), or ``None``.
        digits: Decimals.

    Returns:
        ``"99.40 %"`` or ``"-"``.

    Example:
        >>> percent(0.994), percent(None), percent(0.5, digits=0)
        ('99.40 %', '-', '50 %')
    """
    return "-" if value is None else f"{100 * value:.{digits}f} %"


def percent_spread(values: Sequence[float]) -> str:
    """Write fractions as their mean percentage ± the sample standard deviation in points.

    One value is written without a spread (it has none).

    Args:
        values: Fractions, at least one (final-epoch accuracies of seeds, say).

    Returns:
        ``"99.05 % ± 0.08"``, or ``"99.05 %"`` for one value.

    Example:
        >>> percent_spread([0.9903, 0.9909, 0.9907]), percent_spread([0.9])
        ('99.06 % ± 0.03', '90.00 %')
    """
    mean = statistics.mean(values)
    if len(values) < 2:
        return percent(mean)
    return f"{percent(mean)} ± {100 * statistics.stdev(values):.2f}"


def signed_points(differences: Sequence[float]) -> str:
    """Write differences of fractions as their signed mean in points ± the sample std.

    One value is written without a spread (it has none).

    Args:
        differences: Differences of fractions, at least one (paired seeds, say).

    Returns:
        ``"+0.05 ± 0.03"``, or ``"-0.12"`` for one value.

    Example:
        >>> signed_points([0.0004, 0.0008]), signed_points([-0.0012])
        ('+0.06 ± 0.03', '-0.12')
    """
    mean = f"{100 * statistics.mean(differences):+.2f}"
    if len(differences) < 2:
        return mean
    return f"{mean} ± {100 * statistics.stdev(differences):.2f}"


def list_table(
    header: Sequence[object], rows: Sequence[Sequence[object]], *, stub_columns: int = 0
) -> str:
    """Write an rst ``list-table``: a header row, then one row per item.

    Args:
        header: Column titles.
        rows: Cells, one sequence per row.
        stub_columns: Leading columns shown as row titles.

    Returns:
        The directive, ready to ``.. include::``.

    Example:
        >>> print(list_table(["Model", "Params"], [["v5", "6,364"]]), end="")
        .. list-table::
           :header-rows: 1
        <BLANKLINE>
           * - Model
             - Params
           * - v5
             - 6,364
    """
    out = [".. list-table::", "   :header-rows: 1"]
    if stub_columns:
        out.append(f"   :stub-columns: {stub_columns}")
    out.append("")
    for cells in (header, *rows):
        out.append(f"   * - {cells[0]}")
        out += [f"     - {cell}" for cell in cells[1:]]
    return "\n".join(out) + "\n"


def column_table(names: Sequence[str], columns: Sequence[Mapping[str, str]]) -> str:
    """Write reports side by side: one column per report, one row per figure.

    The rows are the first report's figures, in its order; a figure another report
    lacks is ``-``.

    Args:
        names: Each report's name (its file's stem), shown as code.
        columns: Each report's ``{figure: value}``.

    Returns:
        An rst list-table whose first column names the figures.

    Example:
        >>> print(column_table(["a"], [{"Bytes": "12"}]).splitlines()[-2:])
        ['   * - Bytes', '     - 12']
    """
    rows = [[label, *(column.get(label, "-") for column in columns)] for label in columns[0]]
    return list_table(["Report", *(f"``{name}``" for name in names)], rows, stub_columns=1)
