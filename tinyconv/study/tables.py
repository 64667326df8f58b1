"""Results tables generated from the results files, never typed by hand.

``tinyconv results PATH`` prints the Markdown table of a results file, or of every results
file in a folder, and ``--readme README.md`` rewrites the part of the README between the
markers ``<!-- results:begin -->`` and ``<!-- results:end -->`` (``--marker cpu`` uses
``<!-- cpu:begin -->`` and ``<!-- cpu:end -->``). The Sphinx docs build the same table
as reStructuredText with :func:`results_rst`. Each row says how much training it stands
for (epochs and training images), so a short smoke run never reads as a full one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tinyconv.atomic import atomic_write
from tinyconv.errors import TinyconvError
from tinyconv.formatting import list_table, percent
from tinyconv.study.results import ResultsFileError, is_results_file, load_results
from tinyconv.study.seed_stats import aggregate


class MarkersError(TinyconvError, ValueError):
    """A document to put a table into is missing, or lacks the table's markers.

    Example:
        >>> issubclass(MarkersError, ValueError)
        True
    """


def markers(name: str = "results") -> tuple[str, str]:
    """Return the begin and end markers of the table called ``name``.

    Example:
        >>> markers("cpu")
        ('<!-- cpu:begin -->', '<!-- cpu:end -->')
    """
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


BEGIN, END = markers()
HEADER = (
    "Recipe",
    "Params",
    "Epochs",
    "Training images",
    "Seeds",
    "Final-epoch test acc. (mean ± std)",
    "Min over seeds",
    "Seeds ≥ target",
    "Best epoch (info only)",
    "Final train acc.",
    "Wall time per run",
    "Device",
)
NOT_RECORDED = "not recorded"
"""What the training-images cell says for results written before the count was kept."""


def results_files(source: str | os.PathLike[str]) -> list[Path]:
    """Return the results files a table is made of: ``source`` itself, or those in it.

    Args:
        source: A results file, or a folder of them (other JSON files there, such as
            recipes, are left out).

    Returns:
        The files, sorted by name.

    Raises:
        ResultsFileError: If ``source`` does not exist, or is a folder without results
            files.

    Example:
        >>> [path.name for path in results_files("results/fashion")]
        ['fashion_v5.json', 'fashion_v5_flip.json', 'fashion_wide_plain.json']
    """
    path = Path(source)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ResultsFileError(
            f"no results file or folder at {str(path)!r}; give a <recipe>.json written by "
            "tinyconv study, or the folder holding them (its --out)"
        )
    files = [file for file in sorted(path.glob("*.json")) if is_results_file(file)]
    if not files:
        raise ResultsFileError(
            f"{str(path)!r} holds no results files (<recipe>.json written by tinyconv "
            "study); point to the --out folder of a study"
        )
    return files


def results_rows(source: str | os.PathLike[str]) -> list[tuple[str, ...]]:
    """Return one table row per results file with finished seeds, sorted by name.

    Args:
        source: A results file, or a folder of ``<recipe>.json`` files written by
            :func:`~tinyconv.study.run_study`.

    Returns:
        Rows of strings, one column per entry of ``HEADER``.

    Raises:
        ResultsFileError: If ``source`` is missing, holds no results file, or none with a
            finished seed, or a results file is damaged.

    Example:
        >>> row = results_rows("results/fashion/fashion_v5.json")[0]
        >>> row[:5], row[7]
        (('fashion_v5', '6,364', '15', '60,000', '5'), '0/5 (≥ 92.5 %)')
    """
    rows = []
    for path in results_files(source):
        data = load_results(path)
        if not data["seeds"]:
            continue
        row = aggregate(data)
        samples = row["train_samples"]
        target = row["target"]
        rows.append(
            (
                path.stem,
                f"{row['params']:,}",
                str(row["epochs"]),
                NOT_RECORDED if samples is None else f"{samples:,}",
                str(row["seeds"]),
                f"{percent(row['final_mean'])} ± {100 * row['final_std']:.2f}",
                percent(row["final_min"]),
                "—" if target is None else f"{row['hits']}/{row['seeds']} (≥ {100 * target:.1f} %)",
                percent(row["best_mean"]),
                percent(row["train_final_mean"]),
                f"{row['wall_mean']:.0f} s",
                ", ".join(row["devices"]),
            )
        )
    if not rows:
        raise ResultsFileError(
            f"no finished seed in {str(source)!r} yet; run a study first (tinyconv study)"
        )
    return rows


def results_markdown(source: str | os.PathLike[str]) -> str:
    """Render :func:`results_rows` as a Markdown table.

    Args:
        source: A results file or a folder of them.

    Returns:
        The table, header first, one line per recipe.
    """
    lines = [HEADER, tuple("---" for _ in HEADER), *results_rows(source)]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def results_rst(source: str | os.PathLike[str]) -> str:
    """Render :func:`results_rows` as a reStructuredText list-table.

    Args:
        source: A results file or a folder of them.

    Returns:
        The ``list-table`` directive, ready to ``.. include::``.
    """
    return list_table(HEADER, results_rows(source))


def replace_between_markers(text: str, table: str, name: str = "results") -> str:
    r"""Return ``text`` with the part between the markers of ``name`` replaced by ``table``.

    Args:
        text: The document, e.g. the README.
        table: The new table.
        name: Which table (see :func:`markers`).

    Returns:
        The updated document.

    Raises:
        MarkersError: If the markers are missing.

    Example:
        >>> replace_between_markers("a <!-- t:begin -->old<!-- t:end --> b", "new", "t")
        'a <!-- t:begin -->\nnew\n<!-- t:end --> b'
    """
    begin, end = markers(name)
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise MarkersError(
            f"no {begin} ... {end} markers to put the table between; add them where the "
            "table belongs, or choose another --marker"
        )
    return pattern.sub(lambda _: f"{begin}\n{table}\n{end}", text, count=1)


def write_table(document: str | os.PathLike[str], table: str, name: str = "results") -> Path:
    """Put ``table`` between the markers of ``name`` in a document, atomically.

    Args:
        document: The file to update, e.g. ``README.md``.
        table: The table.
        name: Which markers (see :func:`markers`).

    Returns:
        The document's path.

    Raises:
        MarkersError: If the document does not exist or lacks the markers (it is then
            left as it was).
    """
    path = Path(document)
    if not path.is_file():
        raise MarkersError(f"no file at {str(path)!r} to write the table into; check the path")
    try:
        text = replace_between_markers(path.read_text(encoding="utf-8"), table, name)
    except MarkersError as error:
        raise MarkersError(f"{path}: {error}") from None
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))
