"""Pictures of a search: the optimisation history and the accuracy-vs-parameters front.

Both read an Optuna study as :mod:`tinyconv.search` writes it (validation accuracy as
the value, or accuracy and parameters as the two values of a multi-objective study; the
parameter count in the trial's ``params`` user attribute; over-budget trials PRUNED and
marked ``over_budget``). They need only the study object, so any storage works:
``tinyconv.search.load_search(folder_or_url)`` opens one.
"""

from __future__ import annotations

import os
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tinyconv.plots._style import TARGET_COLOR, TEST_COLOR, new_figure, style
from tinyconv.plots.errors import ReportInputError


def _accuracy(trial: Any) -> float | None:
    """Validation accuracy of a finished trial (the first value), as a fraction."""
    values = trial.values
    return None if not values else float(values[0])


def _finished(study: Any) -> list[Any]:
    complete = [t for t in study.trials if t.state.name == "COMPLETE" and _accuracy(t) is not None]
    if not complete:
        raise ReportInputError(
            f"study {study.study_name!r} has no completed trial to draw; run more trials "
            "(tinyconv search ... --trials N) or check that the budget admits some models"
        )
    return complete


def search_history_figure(study: Any) -> Figure:
    """Draw each completed trial's validation accuracy and the best so far, by trial number.

    Over-budget trials (ended before any training) are counted in the title, not drawn.

    Args:
        study: An ``optuna.Study`` written by :mod:`tinyconv.search`.

    Returns:
        The figure (one axes: trial markers and a best-so-far step line).

    Raises:
        ReportInputError: If the study has no completed trial.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(direction="maximize")
        >>> study.optimize(lambda trial: trial.suggest_float("x", 0.9, 0.99), n_trials=5)
        >>> len(search_history_figure(study).axes[0].lines)
        2
    """
    trials = _finished(study)
    numbers = [t.number for t in trials]
    accuracy = [100 * _accuracy(t) for t in trials]  # type: ignore[operator]
    best, running = [], float("-inf")
    for value in accuracy:
        running = max(running, value)
        best.append(running)
    over = sum(1 for t in study.trials if t.user_attrs.get("over_budget"))
    pruned = sum(
        1 for t in study.trials if t.state.name == "PRUNED" and not t.user_attrs.get("over_budget")
    )
    with style():
        fig = new_figure(9.5, 4.5)
        ax = fig.subplots()
        ax.plot(numbers, accuracy, "o", color=TEST_COLOR, label="completed trial", gid="trials")
        ax.step(numbers, best, where="post", color="black", label="best so far", gid="best")
        ax.set_xlabel("trial number")
        ax.xaxis.set_major_locator(
            MaxNLocator(integer=True, min_n_ticks=1)
        )  # trials are whole numbers
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(
            f"Search {study.study_name!r}: {len(trials)} completed, {pruned} pruned by the "
            f"pruner, {over} over budget (not trained)"
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig


def pareto_front_figure(study: Any, *, max_params: int | None = None) -> Figure:
    """Draw validation accuracy against parameters for every completed trial, front marked.

    The front is the trials no other trial beats on both accuracy and parameter count.

    Args:
        study: An ``optuna.Study`` written by :mod:`tinyconv.search` (single- or
            multi-objective); each trial's parameter count is its ``params`` user attribute.
        max_params: Draw the budget as a vertical line.

    Returns:
        The figure (one axes).

    Raises:
        ReportInputError: If no completed trial records its parameter count.

    Example:
        >>> import optuna
        >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
        >>> study = optuna.create_study(directions=["maximize", "minimize"])
        >>> for acc, params in [(0.98, 3000), (0.99, 3900), (0.97, 3500)]:
        ...     study.add_trial(optuna.trial.create_trial(
        ...         values=[acc, params], user_attrs={"params": params}))
        >>> fig = pareto_front_figure(study, max_params=4000)
        >>> [int(x) for x in fig.axes[0].get_lines()[0].get_xdata()]
        [3000, 3900]
    """
    points = [
        (int(t.user_attrs["params"]), 100 * _accuracy(t))  # type: ignore[operator]
        for t in _finished(study)
        if "params" in t.user_attrs
    ]
    if not points:
        raise ReportInputError(
            f"no completed trial of study {study.study_name!r} records its parameter count"
        )
    front = [
        (p, a)
        for p, a in points
        if not any(q <= p and b >= a and (q, b) != (p, a) for q, b in points)
    ]
    front.sort()
    with style():
        fig = new_figure(9.5, 4.5)
        ax = fig.subplots()
        ax.plot(
            [float(p) for p, _ in front],
            [a for _, a in front],
            "-o",
            color="black",
            label=f"front ({len(front)} trials)",
            gid="front",
        )
        ax.scatter(
            [p for p, _ in points],
            [a for _, a in points],
            color=TEST_COLOR,
            alpha=0.6,
            label="completed trial",
            gid="trials",
        )
        if max_params is not None:
            ax.axvline(
                max_params, color=TARGET_COLOR, linestyle="-.", label=f"budget {max_params:,}"
            )
        ax.set_xlabel("parameters")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(f"Search {study.study_name!r}: validation accuracy against parameters")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig


def build_search_report(
    where: str,
    out_dir: str | os.PathLike[str],
    *,
    study_name: str | None = None,
    command: str | None = None,
    overwrite: bool = False,
) -> Any:
    """Write a search's two figures and an ``index.html`` showing them with its numbers.

    The folder is built aside and moved into place whole, as by
    :func:`~tinyconv.plots.build_report`.

    Args:
        where: A search output folder (journal storage) or a storage URL.
        out_dir: Folder for the page and the PNGs (created; must be new or empty).
        study_name: The study, when the storage holds several.
        command: The command line to show on the page.
        overwrite: Replace ``out_dir`` whole if it holds an earlier report.

    Returns:
        A :class:`~tinyconv.plots.Report` of what was written.

    Raises:
        MissingExtraError: Without the ``[search]`` extra.
        ReportInputError: If the study has no completed trial.
        OutputExistsError: If ``out_dir`` holds files and ``overwrite`` is false.
        OutputPathError: If ``out_dir`` is a file, holds other files, or is read-only.
    """
    from tinyconv.plots.html_report import Report
    from tinyconv.plots.page import Page, report_folder
    from tinyconv.search import choose_trial, load_search
    from tinyconv.search.shared_study import IDENTITY_ATTR

    study = load_search(where, study_name)
    page = Page(title=f"Search {study.study_name}", subtitle=str(where))
    best = choose_trial(study) if len(study.directions) == 1 else None
    page.numbers.append(("Trials", str(len(study.trials))))
    if best is not None:
        page.numbers.append(("Best validation accuracy", f"{100 * best.value:.2f} %"))
        page.numbers.append(
            ("Best trial", f"{best.number} ({best.user_attrs.get('params', 0):,} parameters)")
        )
    if command:
        page.numbers.append(("Command", command))
    identity = study.user_attrs.get(IDENTITY_ATTR)
    budget = identity.get("max_params") if isinstance(identity, dict) else None
    if budget is not None:
        page.numbers.insert(1, ("Parameter budget", f"{budget:,}"))
    history = search_history_figure(study)
    front = pareto_front_figure(study, max_params=budget)
    with report_folder(out_dir, overwrite=overwrite) as folder:
        folder.draw(page, "search_history.png", history, "Optimisation history")
        folder.draw(page, "pareto_front.png", front, "Validation accuracy vs parameters")
        index = folder.write_page(page)
    return Report(index=index, images=folder.images)
