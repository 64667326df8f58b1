"""The report of a results or model file: its figures and an ``index.html`` showing them.

Given a results file (``results/<recipe>.json``), the page shows the learning curves over
all seeds and the final-epoch numbers; when model files of its seeds lie beside it
(``results/<recipe>/seed<N>.model.pt``), the lowest seed's model also gets its budget per
layer and, scored on the test set, its confusion matrix, misclassified gallery and SE
gates. Given a model file, the page shows the model's figures. The folder is written
whole or not at all, and the page embeds its figures (see :mod:`tinyconv.plots.page`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyconv.blocks.squeeze_excite import SqueezeExcite
from tinyconv.data import DatasetInfo, dataset_info, load_dataset, model_dataset
from tinyconv.data.scoring import score_images
from tinyconv.formatting import percent
from tinyconv.model import TinyNet
from tinyconv.model_file import load
from tinyconv.parameters import count_parameters
from tinyconv.plots.budget import budget_figure
from tinyconv.plots.confusion import confusion_figure
from tinyconv.plots.curves import learning_curves, read_results
from tinyconv.plots.errors import ReportInputError
from tinyconv.plots.gallery import misclassified_gallery
from tinyconv.plots.page import Page, ReportFolder, report_folder
from tinyconv.plots.se_gates import se_gate_means, se_gates_figure
from tinyconv.study.seed_stats import aggregate

__all__ = ["Report", "build_report", "model_files_beside"]


@dataclass
class Report:
    """What :func:`build_report` wrote.

    Attributes:
        index: The ``index.html`` page.
        images: The PNG files, in page order.
        notes: Figures left out and why (also shown on the page).
    """

    index: Path
    images: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def model_files_beside(results_path: str | os.PathLike[str]) -> list[Path]:
    """Return the seeds' model files that belong to a results file, lowest seed first.

    Args:
        results_path: ``<out>/<recipe>.json``.

    Returns:
        The existing ``<out>/<recipe>/seed<N>.model.pt`` files, sorted by ``N``.

    Example:
        >>> model_files_beside("results/no_such_recipe.json")
        []
    """
    path = Path(results_path)
    folder = path.parent / path.stem
    found = []
    for candidate in folder.glob("seed*.model.pt"):
        match = re.fullmatch(r"seed(\d+)\.model\.pt", candidate.name)
        if match:
            found.append((int(match.group(1)), candidate))
    return [candidate for _, candidate in sorted(found)]


def _load_model(path: Path) -> TinyNet:
    """Load a model file; a missing one is a ReportInputError, a bad one a ModelFileError."""
    try:
        return load(path)
    except FileNotFoundError as error:
        raise ReportInputError(str(error)) from error


def _results_dataset(recipe: dict[str, Any], dataset: str | None, path: Path) -> DatasetInfo:
    """The dataset of a results file: ``dataset`` if given, else the one its recipe names."""
    name = dataset if dataset is not None else recipe.get("dataset")
    if name is None:
        raise ReportInputError(
            f"{path} names no dataset in its recipe; pass --dataset NAME (dataset= in Python)"
        )
    return dataset_info(name)


def _model_figures(
    folder: ReportFolder,
    page: Page,
    model: TinyNet,
    label: str,
    *,
    data_dir: str | os.PathLike[str] | None,
    dataset: str | None,
    budget: int | None,
    required: bool,
) -> None:
    """Add the budget figure and, when the test images load, the scored figures."""
    info = model_dataset(model, dataset, label=label)
    budget_page = budget_figure(model, budget=budget, model_name=label)
    folder.draw(page, "budget.png", budget_page, "Budget per layer")
    try:
        test_set = load_dataset(info.name, data_dir, train=False)
    except FileNotFoundError as error:  # DatasetNotFoundError
        if required:
            raise
        first = str(error).splitlines()[0]
        page.notes.append(
            f"Test-set figures (confusion matrix, misclassified images, SE gates) left out: "
            f"{first} Pass --data-dir."
        )
        return
    predictions = score_images(model, test_set)
    shown = info.display_name
    page.numbers.append(
        (
            f"Test accuracy of {label} (scored now)",
            f"{percent(predictions.accuracy)} on {len(predictions):,} {shown} test images",
        )
    )
    folder.draw(
        page,
        "confusion.png",
        confusion_figure(predictions, model_name=label),
        "Confusion matrix and per-class accuracy",
    )
    folder.draw(
        page,
        "misclassified.png",
        misclassified_gallery(predictions, test_set, model_name=label),
        "Misclassified test images, most confident first",
    )
    if any(isinstance(module, SqueezeExcite) for module in model.modules()):
        gates = se_gate_means(model, test_set)
        folder.draw(
            page,
            "se_gates.png",
            se_gates_figure(gates, test_set.class_names, model_name=label, dataset=f"{shown} test"),
            "Squeeze-and-excitation gates per class",
        )
    else:
        page.notes.append(f"{label} has no squeeze-and-excitation block: no gates figure.")


def _results_page(
    folder: ReportFolder,
    path: Path,
    *,
    data_dir: str | os.PathLike[str] | None,
    dataset: str | None,
    budget: int | None,
) -> Page:
    """The page of a results file (and of its lowest seed's model file, if beside it)."""
    data = read_results(path)
    recipe: dict[str, Any] = data.get("recipe") or {}
    name = str(recipe.get("name", path.stem))
    models = model_files_beside(path)
    model = _load_model(models[0]) if models else None
    info = _results_dataset(recipe, dataset, path)
    shown = info.display_name
    target = info.target_accuracy
    row = aggregate(data, target)  # hits counted against the target the page shows
    page = Page(
        title=f"{name}: {row['seeds']} seed{'s' if row['seeds'] != 1 else ''} on {shown}",
        subtitle=str(recipe.get("description", "")),
    )
    page.numbers += [
        (
            "Final-epoch test accuracy (mean ± std over seeds)",
            f"{percent(row['final_mean'])} ± {100 * row['final_std']:.2f}",
        ),
        ("Min over seeds", percent(row["final_min"])),
        *(
            [(f"Seeds ≥ {100 * target:.1f} %", f"{row['hits']} of {row['seeds']}")]
            if target is not None
            else []
        ),
        ("Parameters", f"{row['params']:,}"),
        ("Epochs", str(data.get("epochs", "?"))),
        ("Wall time per run (mean)", f"{row['wall_mean']:.0f} s on {', '.join(row['devices'])}"),
    ]
    curves = learning_curves(data, dataset=shown, target=target)
    folder.draw(page, "learning_curves.png", curves, "Learning curves over all seeds")
    if model is None:
        page.notes.append(
            f"No model files beside {path.name} ({path.stem}/seed<N>.model.pt), so no "
            "budget, confusion matrix, misclassified images or SE gates."
        )
        return page
    label = f"{name} {models[0].name.split('.')[0].replace('seed', 'seed ')}"
    if budget is None:
        budget = recipe.get("max_params")
    if count_parameters(model) != row["params"]:
        page.notes.append(
            f"{models[0].name} has {count_parameters(model):,} parameters but the "
            f"results record {row['params']:,}: it is not a model of these runs."
        )
    _model_figures(
        folder, page, model, label,
        data_dir=data_dir, dataset=info.name, budget=budget, required=False,
    )  # fmt: skip
    return page


def _model_page(
    folder: ReportFolder,
    path: Path,
    *,
    data_dir: str | os.PathLike[str] | None,
    dataset: str | None,
    budget: int | None,
) -> Page:
    """The page of a model file: its budget and, scored on its test set, the rest."""
    model = _load_model(path)
    meta = model.metadata
    recipe_meta = meta.get("recipe") if isinstance(meta.get("recipe"), dict) else {}
    label = str(meta.get("name") or recipe_meta.get("name") or path.name.split(".")[0])
    if "seed" in meta:
        label = f"{label} seed {meta['seed']}"
    if budget is None:
        budget = meta.get("max_params") or recipe_meta.get("max_params")
    page = Page(title=f"{label}: model file {path.name}")
    page.numbers.append(("Parameters", f"{count_parameters(model):,}"))
    _model_figures(
        folder, page, model, label,
        data_dir=data_dir, dataset=model_dataset(model, dataset, label=path.name).name,
        budget=budget, required=True,
    )  # fmt: skip
    return page


def build_report(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    dataset: str | None = None,
    budget: int | None = None,
    command: str | None = None,
    overwrite: bool = False,
) -> Report:
    """Write the figures of a results or model file and an ``index.html`` showing them.

    The folder is built aside and moved into place whole (an error or Ctrl-C leaves
    nothing); a folder that already holds files is refused unless ``overwrite``.

    Args:
        source: A results file (``*.json``) or a model file written by :func:`tinyconv.save`.
        out_dir: Folder for the page and its images (created; must be new or empty).
        data_dir: Data root holding the test images (see
            :func:`tinyconv.data.resolve_data_root`); needed for a model file's figures.
        dataset: Dataset of the test images; default: the one the model records.
        budget: Parameter budget to draw; default: the recipe's or the model's metadata's
            ``max_params``.
        command: The command that made the report, shown on the page.
        overwrite: Replace ``out_dir`` whole if it holds an earlier report (only
            ``index.html`` and PNG files; a folder of other files is never replaced).

    Returns:
        The page, the images written and the notes on figures left out.

    Raises:
        ReportInputError: If the source is missing, is a results file without seeds, or a
            model file records no dataset and none is given.
        ModelFileError: If a model file cannot be read.
        DatasetNotFoundError: If a model file is given and its test images are not found.
        DatasetMismatchError: If the model was made for other images than ``dataset``.
        OutputExistsError: If ``out_dir`` holds files and ``overwrite`` is false.
        OutputPathError: If ``out_dir`` is a file, holds other files, or is read-only.
    """
    path = Path(source)
    if not path.is_file():
        raise ReportInputError(
            f"no file at {str(path)!r}; give a results file (results/<recipe>.json) or a "
            "model file (*.model.pt)"
        )
    make_page = _results_page if path.suffix == ".json" else _model_page
    with report_folder(out_dir, overwrite=overwrite) as folder:
        page = make_page(folder, path, data_dir=data_dir, dataset=dataset, budget=budget)
        page.numbers.append(("Command", command or "tinyconv.plots.build_report(...) from Python"))
        index = folder.write_page(page)
    return Report(index=index, images=folder.images, notes=list(page.notes))
