"""Search under a budget: architecture and training search on Optuna (``[search]`` extra).

A search space is a function from an Optuna trial to a :class:`~tinyconv.study.Recipe`
(:mod:`~tinyconv.search.spaces`). Every trial's model is built and checked against the
budget before any data is touched; an over-budget trial ends PRUNED in milliseconds.
The rest train on a seeded validation split carved from the training set (the test set
is never loaded), report every epoch to a pruner, and score final-epoch validation
accuracy — or accuracy and parameters, for a Pareto front.

Studies live in Optuna's storage: a journal file in the output folder by default, or a
database URL that workers on many machines join by study name. A worker that dies
leaves its trial to be marked FAIL and queued again. The winner becomes a recipe JSON
(:func:`export_recipe`) that ``tinyconv study RECIPE.json --seeds 5`` re-scores on test.

Example:
    >>> from tinyconv.search import SearchSettings, run_search  # doctest: +SKIP
    >>> settings = SearchSettings(space="mnist", out="runs/s", trials=8, epochs=2,
    ...                           max_params=4000, train_subset=5000)  # doctest: +SKIP
    >>> study = run_search(settings, workers=2)  # doctest: +SKIP
"""

from tinyconv._extras import require

require("optuna", "search")

from tinyconv.search.errors import (  # noqa: E402
    NoTrialError,
    SearchError,
    SettingsError,
    SpaceError,
    StudyMismatchError,
    UnknownStorageError,
)
from tinyconv.search.export import (  # noqa: E402
    choose_trial,
    export_recipe,
    load_search,
    pareto_front,
    recipe_from_params,
    trial_recipe,
)
from tinyconv.search.liveness import process_alive, reap_dead_trials, worker_identity  # noqa: E402
from tinyconv.search.objective import (  # noqa: E402
    Objective,
    SurplusTrialError,
    apply_settings,
    recipe_from_trial,
)
from tinyconv.search.settings import PRUNERS, SearchSettings  # noqa: E402
from tinyconv.search.shared_study import (  # noqa: E402
    IDENTITY_ATTR,
    make_pruner,
    make_sampler,
    open_study,
    trial_counts,
)
from tinyconv.search.spaces import SPACES, Space, fashion_mnist_space, mnist_space, resolve_space  # noqa: E402
from tinyconv.search.storage import (  # noqa: E402
    DEFAULT_JOURNAL,
    GRACE_PERIOD_S,
    HEARTBEAT_INTERVAL_S,
    MAX_RETRY,
    open_storage,
    quiet_experimental,
    retry_callback,
    safe_url,
)
from tinyconv.search.worker import POLL_S, run_search, run_worker, split_threads  # noqa: E402

__all__ = [
    "DEFAULT_JOURNAL",
    "GRACE_PERIOD_S",
    "HEARTBEAT_INTERVAL_S",
    "IDENTITY_ATTR",
    "MAX_RETRY",
    "POLL_S",
    "PRUNERS",
    "SPACES",
    "NoTrialError",
    "Objective",
    "SearchError",
    "SearchSettings",
    "SettingsError",
    "Space",
    "SpaceError",
    "StudyMismatchError",
    "SurplusTrialError",
    "UnknownStorageError",
    "apply_settings",
    "choose_trial",
    "export_recipe",
    "fashion_mnist_space",
    "load_search",
    "make_pruner",
    "make_sampler",
    "mnist_space",
    "open_storage",
    "open_study",
    "pareto_front",
    "process_alive",
    "quiet_experimental",
    "reap_dead_trials",
    "recipe_from_params",
    "recipe_from_trial",
    "resolve_space",
    "retry_callback",
    "run_search",
    "run_worker",
    "safe_url",
    "split_threads",
    "trial_counts",
    "trial_recipe",
    "worker_identity",
]
