"""Pictures of what tinyconv measures: learning curves, confusion matrix, mistakes, budget, gates.

Needs the optional extra ``pip install 'tinyconv[plots]'`` (matplotlib); ``import
tinyconv`` never imports this package or matplotlib. Every figure function returns a
:class:`matplotlib.figure.Figure` built without ``pyplot`` (no display needed, the
caller's backend untouched) in one fixed style; :func:`save_png` writes it with bytes
that depend only on the figure. :func:`build_report` (the ``tinyconv report`` command)
writes them all with an ``index.html``.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from tinyconv.plots import learning_curves, save_png
    >>> fig = learning_curves("results/mnist_v5.json")
    >>> save_png(fig, Path(tempfile.mkdtemp()) / "curves.png").suffix
    '.png'
"""

from tinyconv.plots._style import save_png
from tinyconv.plots.budget import budget_figure
from tinyconv.plots.comparison import compare_recipes
from tinyconv.plots.confusion import confusion_figure
from tinyconv.plots.curves import SeedCurves, learning_curves, read_results, seed_curves
from tinyconv.plots.errors import ReportInputError
from tinyconv.plots.frontier import (
    AccuracyPoint,
    accuracy_cost_figure,
    accuracy_params_figure,
    pareto_front_labels,
    point_from_results,
)
from tinyconv.plots.gallery import misclassified_gallery
from tinyconv.plots.html_report import Report, build_report
from tinyconv.plots.se_gates import se_gate_means, se_gates_figure
from tinyconv.plots.search import build_search_report, pareto_front_figure, search_history_figure

__all__ = [
    "AccuracyPoint",
    "Report",
    "ReportInputError",
    "SeedCurves",
    "accuracy_cost_figure",
    "accuracy_params_figure",
    "budget_figure",
    "build_report",
    "build_search_report",
    "compare_recipes",
    "confusion_figure",
    "learning_curves",
    "misclassified_gallery",
    "pareto_front_figure",
    "pareto_front_labels",
    "point_from_results",
    "read_results",
    "save_png",
    "se_gate_means",
    "se_gates_figure",
    "search_history_figure",
    "seed_curves",
]
