"""Search under a budget: architecture and training search on Optuna (``[search]`` extra).

A search space is a function from an Optuna trial to a :class:`~tinyconv.Recipe`
(:mod:`~tinyconv.search.spaces`). Every trial's model is built and checked against the
budget before any data is touched; an over-budget trial ends PRUNED in milliseconds.
The rest train on a seeded validation split carved from the training set (the test set
is never loaded), report every epoch to a pruner, and score final-epoch validation
accuracy — or accuracy and parameters, for a Pareto front.

Studies live in Optuna's storage: a journal file in the output folder by default, or a
database URL that workers on many machines join by study name. A worker that dies
leaves its trial to be marked FAIL and queued again. The winner becomes a recipe JSON
(:func:`export_recipe`) that ``tinyconv study RECIPE.json --seeds 5`` re-scores on test.

This namespace holds what a user calls; the modules behind it (``settings``, ``spaces``,
``objective``, ``worker``, ``trials``, ``storage``, ``shared_study``, ``liveness``,
``errors``) hold the rest.

Example:
    >>> from tinyconv.search import SearchSettings, run_search  # doctest: +SKIP
    >>> settings = SearchSettings(space="mnist", out="runs/s", trials=8, epochs=2,
    ...                           max_params=4000, train_subset=5000)  # doctest: +SKIP
    >>> study = run_search(settings, workers=2)  # doctest: +SKIP
"""

from tinyconv._extras import require

require("optuna", "search")

from tinyconv.search.errors import SearchError  # noqa: E402
from tinyconv.search.settings import SearchSettings  # noqa: E402
from tinyconv.search.spaces import SPACES, Space  # noqa: E402
from tinyconv.search.trials import choose_trial, export_recipe, load_search, pareto_front  # noqa: E402
from tinyconv.search.worker import run_search  # noqa: E402

__all__ = [
    "SPACES",
    "SearchError",
    "SearchSettings",
    "Space",
    "choose_trial",
    "export_recipe",
    "load_search",
    "pareto_front",
    "run_search",
]
