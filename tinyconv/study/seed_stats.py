"""Statistics over seeds: final-epoch figures of a results file, against the dataset's target.

:func:`aggregate` reduces a results file (see :mod:`tinyconv.study.results`) to the
figures a reviewer trusts: the final-epoch test accuracy as mean, standard deviation and
minimum over seeds, how many seeds reach the target, and how much training each stands
for (epochs, training images), with the best epoch only as a labelled extra. The target
comes from the dataset registry (:func:`results_target`), never from a constant here.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tinyconv.errors import TinyconvError
from tinyconv.study.results import ResultsFileError

if TYPE_CHECKING:
    from tinyconv.data import DatasetInfo


def results_dataset(data: Mapping[str, Any]) -> DatasetInfo | None:
    """Return the registered dataset a results file's recipe trained on.

    The one reader of "which dataset are these results about" for tables and figures.

    Args:
        data: Content of a results file.

    Returns:
        The dataset's facts (``None`` if the file names no recipe, or its dataset is not
        registered in this process).

    Example:
        >>> results_dataset({"recipe": {"dataset": "fashion_mnist"}}).display_name
        'FashionMNIST'
    """
    from tinyconv.data import dataset_info
    from tinyconv.recipe import Recipe

    recipe = data.get("recipe")
    if not isinstance(recipe, Mapping):
        return None
    name = recipe.get("dataset", Recipe.dataset)  # a recipe's dataset has a default
    try:
        return dataset_info(name)
    except TinyconvError:
        return None


def results_target(data: Mapping[str, Any]) -> float | None:
    """Return the target accuracy of the results' dataset, from the dataset registry.

    Args:
        data: Content of a results file.

    Returns:
        The dataset's ``target_accuracy`` (``None`` if it has none or is not registered
        in this process).

    Example:
        >>> results_target({"recipe": {"dataset": "fashion_mnist"}})
        0.925
    """
    info = results_dataset(data)
    return None if info is None else info.target_accuracy


def aggregate(data: Mapping[str, Any], target: float | None = None) -> dict[str, Any]:
    """Reduce a results file to per-recipe figures over its seeds.

    Args:
        data: Content of a results file.
        target: Accuracy threshold whose hit rate is reported; ``None`` takes the target
            of the recipe's dataset from the registry (99.4 % for MNIST).

    Returns:
        ``seeds`` (count), ``target`` (``None`` if the dataset has none), ``params``,
        ``epochs``, ``train_samples`` (``None`` where not recorded), ``final_mean``,
        ``final_std`` (sample standard deviation; 0 for one seed), ``final_min``,
        ``hits`` and ``hit_rate`` (seeds whose final-epoch accuracy is >= ``target``;
        ``None`` without a target), ``best_mean`` (best epoch, for information only),
        ``train_final_mean``, ``wall_mean`` (seconds) and ``devices``.

    Raises:
        ResultsFileError: If the file holds no seeds.

    Example:
        >>> data = {"recipe": {"dataset": "mnist"}, "epochs": 15, "seeds": {
        ...     str(s): {"final_test_acc": a, "best_test_acc": a, "final_train_acc": 0.99,
        ...     "wall_seconds": 10.0, "params": 5000, "device_name": "cpu"}
        ...     for s, a in enumerate([0.993, 0.995])}}
        >>> row = aggregate(data)
        >>> round(row["final_mean"], 4), row["final_min"], row["hit_rate"], row["target"]
        (0.994, 0.993, 0.5, 0.994)
    """
    runs = list(data["seeds"].values())
    if not runs:
        raise ResultsFileError("no finished seeds in this results file yet; run a study first")
    if target is None:
        target = results_target(data)
    finals = [run["final_test_acc"] for run in runs]
    hits = None if target is None else sum(acc >= target for acc in finals)
    samples = {run.get("train_samples") for run in runs}
    return {
        "seeds": len(runs),
        "target": target,
        "params": runs[0]["params"],
        "epochs": data.get("epochs", runs[0].get("epochs")),
        "train_samples": samples.pop() if len(samples) == 1 else None,
        "final_mean": statistics.fmean(finals),
        "final_std": statistics.stdev(finals) if len(finals) > 1 else 0.0,
        "final_min": min(finals),
        "hits": hits,
        "hit_rate": None if hits is None else hits / len(finals),
        "best_mean": statistics.fmean(run["best_test_acc"] for run in runs),
        "train_final_mean": statistics.fmean(run["final_train_acc"] for run in runs),
        "wall_mean": statistics.fmean(run["wall_seconds"] for run in runs),
        "devices": sorted({run["device_name"] for run in runs}),
    }
