"""The report page: PNG figures and a self-contained ``index.html`` for a results or model file.

Given a results file (``results/<recipe>.json``), the page shows the learning curves over
all seeds and the final-epoch numbers; when model files of its seeds lie beside it
(``results/<recipe>/seed<N>.model.pt``), the lowest seed's model also gets its budget per
layer and, scored on the test set, its confusion matrix, misclassified gallery and SE
gates. Given a model file, the page shows the model's figures. Images sit beside
``index.html``, which loads nothing from the network. Every file is written atomically and
holds no timestamp, so the same inputs give the same files.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from tinyconv.atomic import atomic_write
from tinyconv.blocks.squeeze_excite import SqueezeExcite
from tinyconv.data import DatasetInfo, dataset_info, load_dataset, model_dataset
from tinyconv.data.scoring import score_images
from tinyconv.model import TinyNet
from tinyconv.model_file import load
from tinyconv.parameters import count_parameters
from tinyconv.plots._style import save_png
from tinyconv.plots.budget import budget_figure
from tinyconv.plots.confusion import confusion_figure
from tinyconv.plots.curves import learning_curves, read_results
from tinyconv.plots.errors import ReportInputError
from tinyconv.plots.gallery import misclassified_gallery
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


@dataclass
class _Page:
    title: str
    subtitle: str
    numbers: list[tuple[str, str]] = field(default_factory=list)
    figures: list[tuple[str, str]] = field(default_factory=list)  # (file name, caption)
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


def _pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def _model_figures(
    page: _Page,
    model: TinyNet,
    label: str,
    *,
    data_dir: str | os.PathLike[str] | None,
    dataset: str | None,
    budget: int | None,
    required: bool,
    draw: Callable[[str, Figure, str], None],
) -> None:
    """Add the budget figure and, when the test images load, the scored figures."""
    info = model_dataset(model, dataset, label=label)
    draw("budget.png", budget_figure(model, budget=budget, model_name=label), "Budget per layer")
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
            f"{_pct(predictions.accuracy)} on {len(predictions):,} {shown} test images",
        )
    )
    draw(
        "confusion.png",
        confusion_figure(predictions, model_name=label),
        "Confusion matrix and per-class accuracy",
    )
    draw(
        "misclassified.png",
        misclassified_gallery(predictions, test_set, model_name=label),
        "Misclassified test images, most confident first",
    )
    if any(isinstance(module, SqueezeExcite) for module in model.modules()):
        gates = se_gate_means(model, test_set)
        draw(
            "se_gates.png",
            se_gates_figure(gates, test_set.class_names, model_name=label, dataset=f"{shown} test"),
            "Squeeze-and-excitation gates per class",
        )
    else:
        page.notes.append(f"{label} has no squeeze-and-excitation block: no gates figure.")


def build_report(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    dataset: str | None = None,
    budget: int | None = None,
    command: str | None = None,
) -> Report:
    """Write the figures of a results or model file and an ``index.html`` showing them.

    Args:
        source: A results file (``*.json``) or a model file written by :func:`tinyconv.save`.
        out_dir: Folder for the page and its images (created if needed).
        data_dir: Data root holding the test images (see
            :func:`tinyconv.data.resolve_data_root`); needed for a model file's figures.
        dataset: Dataset of the test images; default: the one the model records.
        budget: Parameter budget to draw; default: the recipe's or the model's metadata's
            ``max_params``.
        command: The command that made the report, shown on the page.

    Returns:
        The page, the images written and the notes on figures left out.

    Raises:
        ReportInputError: If the source is missing, is a results file without seeds, or a
            model file records no dataset and none is given.
        ModelFileError: If a model file cannot be read.
        DatasetNotFoundError: If a model file is given and its test images are not found.
        DatasetMismatchError: If the model was made for other images than ``dataset``.
    """
    path = Path(source)
    if not path.is_file():
        raise ReportInputError(
            f"no file at {str(path)!r}; give a results file (results/<recipe>.json) or a "
            "model file (*.model.pt)"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = Report(index=out / "index.html")

    def draw(file_name: str, figure: Figure, caption: str) -> None:
        report.images.append(save_png(figure, out / file_name))
        page.figures.append((file_name, caption))

    if path.suffix == ".json":
        data = read_results(path)
        recipe: dict[str, Any] = data.get("recipe") or {}
        name = str(recipe.get("name", path.stem))
        models = model_files_beside(path)
        model = _load_model(models[0]) if models else None
        info = _results_dataset(recipe, dataset, path)
        shown = info.display_name
        target = info.target_accuracy
        row = aggregate(data, target)  # hits counted against the target the page shows
        page = _Page(
            title=f"{name}: {row['seeds']} seed{'s' if row['seeds'] != 1 else ''} on {shown}",
            subtitle=str(recipe.get("description", "")),
        )
        page.numbers += [
            (
                "Final-epoch test accuracy (mean ± std over seeds)",
                f"{_pct(row['final_mean'])} ± {100 * row['final_std']:.2f}",
            ),
            ("Min over seeds", _pct(row["final_min"])),
            *(
                [(f"Seeds ≥ {100 * target:.1f} %", f"{row['hits']} of {row['seeds']}")]
                if target is not None
                else []
            ),
            ("Parameters", f"{row['params']:,}"),
            ("Epochs", str(data.get("epochs", "?"))),
            (
                "Wall time per run (mean)",
                f"{row['wall_mean']:.0f} s on {', '.join(row['devices'])}",
            ),
        ]
        draw(
            "learning_curves.png",
            learning_curves(data, dataset=shown, target=target),
            "Learning curves over all seeds",
        )
        if model is None:
            page.notes.append(
                f"No model files beside {path.name} ({path.stem}/seed<N>.model.pt), so no "
                "budget, confusion matrix, misclassified images or SE gates."
            )
        else:
            label = f"{name} {models[0].name.split('.')[0].replace('seed', 'seed ')}"
            if budget is None:
                budget = recipe.get("max_params")
            if count_parameters(model) != row["params"]:
                page.notes.append(
                    f"{models[0].name} has {count_parameters(model):,} parameters but the "
                    f"results record {row['params']:,}: it is not a model of these runs."
                )
            _model_figures(
                page,
                model,
                label,
                data_dir=data_dir,
                dataset=info.name,
                budget=budget,
                required=False,
                draw=draw,
            )
    else:
        model = _load_model(path)
        meta = model.metadata
        recipe_meta = meta.get("recipe") if isinstance(meta.get("recipe"), dict) else {}
        label = str(meta.get("name") or recipe_meta.get("name") or path.name.split(".")[0])
        if "seed" in meta:
            label = f"{label} seed {meta['seed']}"
        if budget is None:
            budget = meta.get("max_params") or recipe_meta.get("max_params")
        page = _Page(title=f"{label}: model file {path.name}", subtitle="")
        page.numbers.append(("Parameters", f"{count_parameters(model):,}"))
        _model_figures(
            page,
            model,
            label,
            data_dir=data_dir,
            dataset=model_dataset(model, dataset, label=path.name).name,
            budget=budget,
            required=True,
            draw=draw,
        )
    page.numbers.append(("Command", command or "tinyconv.plots.build_report(...) from Python"))
    report.notes = list(page.notes)
    text = _html(page)
    atomic_write(report.index, lambda file: file.write(text.encode()))
    return report


_CSS = """
body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 2em auto; max-width: 1100px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
p.subtitle { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 1em 0 2em; }
th, td { text-align: left; padding: 0.35em 1em 0.35em 0; border-bottom: 1px solid #ddd;
         vertical-align: top; }
th { font-weight: normal; color: #555; }
td code { font-size: 0.95em; }
figure { margin: 0 0 2.5em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-weight: bold; margin-bottom: 0.4em; }
ul.notes { color: #555; }
"""


def _html(page: _Page) -> str:
    e = html.escape
    rows = []
    for key, value in page.numbers:
        cell = f"<code>{e(value)}</code>" if key == "Command" else e(value)
        rows.append(f"<tr><th>{e(key)}</th><td>{cell}</td></tr>")
    figures = [
        f"<figure><figcaption>{e(caption)}</figcaption>"
        f'<a href="{e(file)}"><img src="{e(file)}" alt="{e(caption)}"></a></figure>'
        for file, caption in page.figures
    ]
    notes = "".join(f"<li>{e(note)}</li>" for note in page.notes)
    subtitle = f'<p class="subtitle">{e(page.subtitle)}</p>' if page.subtitle else ""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{e(page.title)}: tinyconv report</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{e(page.title)}</h1>",
            subtitle,
            "<table>",
            *rows,
            "</table>",
            *figures,
            f'<ul class="notes">{notes}</ul>' if notes else "",
            "</body>",
            "</html>",
            "",
        ]
    )
