"""Sphinx configuration for the tinyconv documentation.

Build (warnings are errors, as in CI)::

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

Generated at build time into ``docs/_generated/`` (not committed): the measured
results tables, from ``results/*.json`` and ``results/cpu/*.json`` through
:func:`tinyconv.study.results_rst`, and the tutorial's printed summary and budget
error, and the learning-curve figures (:mod:`tinyconv.plots`, from
``results/*.json``, into ``_generated/figures/``). Set ``TINYCONV_DOCS_ONLINE=1`` to
link to the Python and PyTorch docs (needs internet; see the intersphinx section).
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from pathlib import Path

from sphinx.application import Sphinx

DOCS_DIR = Path(__file__).resolve().parent
REPO_ROOT = DOCS_DIR.parent
GENERATED_DIR = DOCS_DIR / "_generated"

# Document the working tree's package even when it is not installed.
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(DOCS_DIR))

import tinyconv  # noqa: E402
from tinyconv.compress.tables import (  # noqa: E402
    distillation_rst,
    int8_drops_rst,
    pruning_runs,
    pruning_summary_rst,
    qat_rst,
)
from tinyconv.study.frontier_tables import (  # noqa: E402
    frontier_summary_rst,
    frontier_validation_rst,
)
from tinyconv.study.results import ResultsFileError  # noqa: E402
from tinyconv.study.tables import results_rows, results_rst  # noqa: E402

# -- Project -----------------------------------------------------------------

project = "tinyconv"
author = "the tinyconv authors"
copyright = "the tinyconv authors"
release = tinyconv.__version__
version = ".".join(release.split(".")[:2])

# -- Extensions --------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",  # API pages from the docstrings
    "sphinx.ext.autosummary",  # one page per public name, tables per topic
    "sphinx.ext.napoleon",  # Google-style Args/Returns/Raises/Example sections
    "sphinx.ext.intersphinx",  # links to the Python and PyTorch docs (online builds only)
    "sphinx.ext.viewcode",  # "[source]" links to the highlighted module source
    "sphinx.ext.mathjax",  # the Shape sections use :math:
    "sphinx-mathjax-offline",  # ... rendered by a MathJax copied into the build (offline)
]
# No sphinx.ext.doctest: the docstring examples are executed by
# ``pytest --doctest-modules tinyconv``; running them twice would only cost time.

templates_path = ["_templates"]
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
language = "en"

# -- autodoc / autosummary ---------------------------------------------------

autosummary_generate = True  # writes docs/api/generated/*.rst (ignored by git)
autosummary_imported_members = False
autodoc_default_options = {
    "members": True,
    "member-order": "bysource",
}
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_class_signature = "mixed"
autodoc_preserve_defaults = True
autodoc_member_order = "bysource"
add_module_names = False  # "ConvSpec(...)" rather than "tinyconv.ConvSpec(...)" in headings
python_use_unqualified_type_names = True

from public_namespaces import PUBLIC_NAMESPACES  # noqa: E402  (docs/, on sys.path above)


def _public_classes_with_bases() -> list[str]:
    """Public classes worth a "Bases:" line: those deriving from more than ``object``."""
    names = []
    for namespace in PUBLIC_NAMESPACES:
        module = importlib.import_module(namespace)
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and obj.__bases__ != (object,):
                names.append(f"{namespace}.{name}")
    return names


autosummary_context = {
    # used by _templates/autosummary/class.rst: no "Bases: object" on the dataclasses
    "show_bases": _public_classes_with_bases(),
    # used by _templates/autosummary/data.rst: containers whose repr would swamp the page
    "hide_value": ["ACTIVATIONS", "RAW_FILES", "RECIPES", "AUGMENTATIONS"],
}

# -- napoleon (Google-style docstrings) --------------------------------------

napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_include_init_with_doc = False
napoleon_use_ivar = False  # "Attributes:" become attribute entries one can link to
napoleon_use_rtype = False
napoleon_custom_sections = ["Shape"]  # the "Shape:" blocks of modules, as in kornia and torch

# -- intersphinx -------------------------------------------------------------
# There is no internet where the docs are usually built (developer boxes, CI), and a
# failed inventory fetch is an untyped Sphinx warning, which ``-W`` turns into a failed
# build (it cannot be silenced with ``suppress_warnings``). So the mapping is used only
# when TINYCONV_DOCS_ONLINE=1 says the inventories can be fetched; offline builds still
# render every reference, just without the outbound links.

intersphinx_timeout = 1
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
if os.environ.get("TINYCONV_DOCS_ONLINE") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
    }

# -- HTML ----------------------------------------------------------------------
# furo: maintained, clean and readable, with a light/dark mode, a good mobile layout and
# a sidebar that handles a deep API tree, with no configuration to speak of.

html_theme = "furo"
html_title = f"tinyconv {release}"
html_static_path = ["_static"]
html_css_files = ["tables.css"]  # results tables: one line per value, not 3-5
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": True,
}

pygments_style = "sphinx"
pygments_dark_style = "monokai"

# -- Generated pages -----------------------------------------------------------


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps incremental builds quick)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _has_rows(folder: Path) -> bool:
    """Whether ``folder`` holds a results file with a finished seed."""
    try:
        return bool(results_rows(folder))
    except ResultsFileError:
        return False


def _cpu_results_section() -> str:
    """The CPU runs' table, or a note while ``results/cpu/`` holds no finished seed."""
    cpu_dir = REPO_ROOT / "results" / "cpu"
    if _has_rows(cpu_dir):
        intro = (
            "**On a CPU.** One seed of each recipe trained on an idle 2-core machine without "
            "a GPU (2 torch threads, one run at a time), with ``python examples/<recipe>.py "
            "--seeds 1 --device cpu --out results/cpu``, and ``mnist_v5_hash``: V5 with hash "
            "dropout masks, five seeds (``tinyconv study mnist_v5 --seeds 5 --workers 2 "
            "--threads 2 --dropout-masks hash``, two seeds at a time on the same machine), and "
            "``mnist_v5_writeup``: V5's layout at the reference write-up's counts, five seeds "
            "(``tinyconv study mnist_v5_writeup --seeds 5 --threads 1``; :doc:`frontier`); "
            "generated from ``results/cpu/``:"
        )
        return f"{intro}\n\n{results_rst(cpu_dir)}"
    return (
        "The CPU runs (``results/cpu/``) have no finished seed yet; their table "
        "appears here once it has.\n"
    )


def _cli_reference() -> str:
    """Every ``tinyconv`` command's ``--help``, from the parsers themselves (never typed)."""
    import argparse

    from tinyconv.cli import build_parser

    parser = build_parser()
    os.environ["COLUMNS"] = "88"  # one width, whatever terminal builds the docs
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = ["``tinyconv --help``", "-" * 19, "", ".. code-block:: text", ""]
    out += ["   " + line for line in parser.format_help().splitlines()] + [""]
    for name, command in sorted(commands.choices.items()):
        title = f"``tinyconv {name}``"
        out += [title, "-" * len(title), "", ".. code-block:: text", ""]
        out += [("   " + line).rstrip() for line in command.format_help().splitlines()] + [""]
    return "\n".join(out)


def _generate_pages() -> None:
    """Write the results table and the tutorial's model summary into ``_generated/``."""
    _write_if_changed(GENERATED_DIR / "results.rst", results_rst(REPO_ROOT / "results"))
    _write_if_changed(GENERATED_DIR / "cli_reference.rst", _cli_reference())
    _write_if_changed(GENERATED_DIR / "results_cpu.rst", _cpu_results_section())
    import tutorial_budget  # docs/tutorial_budget.py, the script the tutorial page shows

    model = tutorial_budget.build_model()
    _write_if_changed(GENERATED_DIR / "tutorial_summary.txt", f"{tinyconv.summary(model)}\n")
    _write_if_changed(
        GENERATED_DIR / "tutorial_budget_error.txt",
        f"{tutorial_budget.budget_error_message(model)}\n",
    )
    fashion = REPO_ROOT / "results" / "fashion"
    _write_if_changed(
        GENERATED_DIR / "results_fashion.rst",
        results_rst(fashion)
        if _has_rows(fashion)
        else "The FashionMNIST runs have no finished seed yet; their table appears here once "
        "they have.\n",
    )
    from tinyconv.export.onnx_report import deploy_rst  # no onnx needed to render saved reports

    _write_if_changed(GENERATED_DIR / "deploy.rst", deploy_rst(REPO_ROOT / "results" / "deploy"))
    from tinyconv.export.tflite_report import tflite_figures_rst, tflite_rst  # saved JSON only

    deploy = REPO_ROOT / "results" / "deploy"
    _write_if_changed(GENERATED_DIR / "deploy_tflite.rst", tflite_rst(deploy / "tflite", deploy))
    _write_if_changed(
        GENERATED_DIR / "deploy_tflite_reports.rst", tflite_figures_rst(deploy / "tflite")
    )

    from tinyconv.mcu.report import mcu_estimates_rst, mcu_operators_rst, mcu_rst  # saved JSON

    mcu = REPO_ROOT / "results" / "mcu"
    _write_if_changed(GENERATED_DIR / "mcu_table.rst", mcu_rst(mcu))
    _write_if_changed(GENERATED_DIR / "mcu_operators.rst", mcu_operators_rst(mcu))
    estimates = mcu_estimates_rst(mcu / "estimates.json")
    _write_if_changed(GENERATED_DIR / "mcu_estimates.rst", estimates)

    results = REPO_ROOT / "results"
    _write_if_changed(GENERATED_DIR / "frontier_validation.rst", frontier_validation_rst(results))
    _write_if_changed(GENERATED_DIR / "frontier_summary.rst", frontier_summary_rst(results))
    _write_if_changed(GENERATED_DIR / "int8_drops.rst", int8_drops_rst(results))
    _write_if_changed(GENERATED_DIR / "qat.rst", qat_rst(results))
    _write_if_changed(
        GENERATED_DIR / "distillation.rst",
        distillation_rst(
            results / "search" / "mnist4k_trial41.json",
            results / "frontier" / "mnist4k_trial41_distilled.json",
            "``mnist4k_trial41``",
        ),
    )
    _write_if_changed(
        GENERATED_DIR / "distillation_v5.rst",
        distillation_rst(
            results / "cpu" / "mnist_v5.json",
            results / "compress" / "mnist_v5_distilled.json",
            "``mnist_v5``, ``results/cpu``",
        ),
    )
    _write_if_changed(
        GENERATED_DIR / "distillation_fashion.rst",
        distillation_rst(
            results / "fashion" / "fashion_v5.json",
            results / "compress" / "fashion_v5_distilled.json",
            "``fashion_v5``, ``results/fashion``",
        ),
    )
    _write_if_changed(GENERATED_DIR / "pruning_summary.rst", pruning_summary_rst(results))
    frontier = REPO_ROOT / "results" / "frontier"
    _write_if_changed(
        GENERATED_DIR / "results_frontier.rst",
        results_rst(frontier)
        if _has_rows(frontier)
        else "No frontier recipe has a finished test seed yet.\n",
    )


_generate_pages()


def _write_bytes_if_changed(path: Path, data: bytes) -> None:
    """Write ``data`` unless the file already holds it (the PNGs are byte-stable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def _generate_figures() -> None:
    """Draw the five-versions comparison and V5's learning curves from ``results/``."""
    from tinyconv.plots import compare_recipes, learning_curves
    from tinyconv.plots._style import png_bytes

    results = REPO_ROOT / "results"
    figures = GENERATED_DIR / "figures"
    versions = [results / f"mnist_v{v}.json" for v in range(1, 6)]
    _write_bytes_if_changed(figures / "mnist_versions.png", png_bytes(compare_recipes(versions)))
    _write_bytes_if_changed(
        figures / "mnist_v5_curves.png", png_bytes(learning_curves(results / "mnist_v5.json"))
    )
    fashion = sorted((results / "fashion").glob("*.json"))
    if fashion:
        _write_bytes_if_changed(
            figures / "fashion_recipes.png", png_bytes(compare_recipes(fashion))
        )
        _write_if_changed(
            GENERATED_DIR / "fashion_curves.rst",
            ".. figure:: /_generated/figures/fashion_recipes.png\n   :width: 100%\n\n"
            "   Test accuracy per epoch of the FashionMNIST recipes, mean and min-max band "
            "over seeds (drawn from ``results/fashion/`` at doc build time).\n",
        )
    else:
        _write_if_changed(GENERATED_DIR / "fashion_curves.rst", "No curves yet.\n")
    _fashion_confusion(results / "fashion", figures)
    _write_bytes_if_changed(figures / "frontier.png", png_bytes(_frontier_figure(results)))
    _deployable(results, figures)


def _frontier_figure(results: Path) -> object:
    """Test accuracy against parameters: the versions, search winner, pruned, frontier runs."""
    from tinyconv.plots import AccuracyPoint, accuracy_params_figure, point_from_results

    points = [
        point_from_results(results / f"mnist_v{v}.json", kind="five versions (GPU)")
        for v in (1, 2, 3, 4, 5)
    ]
    points.append(
        point_from_results(results / "mnist_v5_onecycle.json", kind="five versions (GPU)")
    )
    points.append(
        point_from_results(results / "search" / "mnist4k_trial41.json", kind="search winner")
    )
    writeup = results / "cpu" / "mnist_v5_writeup.json"
    if writeup.is_file():
        points.append(point_from_results(writeup, kind="write-up counts (CPU)"))
    # One point per budget (pruned) and per budget and epochs (scratch): the seeds' widths
    # differ by a few parameters, so the point sits at their mean count. MNIST sources only.
    for (prefix, budget), seeds in sorted(pruning_runs(results).items()):
        if prefix != "v5":
            continue
        runs = [("pruned", f"V5 pruned to {budget:,} + 5 ep.", "pruned (CPU)")]
        runs += [
            (f"scratch_e{e}", f"same widths, scratch {e} ep.", "trained from scratch (CPU)")
            for e in (5, 20)
        ]
        for key, label, kind in runs:
            found = [seed[key] for seed in seeds.values() if key in seed]
            if found:
                mean_params = round(sum(r["params"] for r in found) / len(found))
                accs = [r["test_acc_final"] for r in found]
                points.append(AccuracyPoint(label, kind, mean_params, accs))
    from tinyconv.study.results import is_results_file

    for path in sorted((results / "frontier").glob("*.json")):
        if not is_results_file(path):  # the validation runs, recipe files
            continue
        name = path.stem
        kind = "distilled (CPU)" if "distilled" in name else "frontier recipes (CPU)"
        points.append(point_from_results(path, kind=kind))
    distilled_v5 = results / "compress" / "mnist_v5_distilled.json"
    if distilled_v5.is_file():
        points.append(point_from_results(distilled_v5, kind="distilled (CPU)"))
    return accuracy_params_figure(
        points, targets={"99.4 %": 0.994, "99.5 %": 0.995}, budgets=(4000, 8000)
    )


def _deployable(results: Path, figures: Path) -> None:
    """The MNIST studies beside their Cortex-M4 costs: a table and two figures."""
    from tinyconv.mcu.frontier import deployable_points, deployable_rst
    from tinyconv.plots import accuracy_cost_figure
    from tinyconv.plots._style import png_bytes
    from tinyconv.study.results import is_results_file

    studies = [(results / f"mnist_v{v}.json", "five versions (GPU)") for v in (1, 2, 3, 4, 5)]
    studies += [
        (results / "mnist_v5_no_se.json", "five versions (GPU)"),
        (results / "mnist_v5_onecycle.json", "five versions (GPU)"),
        (results / "search" / "mnist4k_trial41.json", "search winner"),
        (results / "cpu" / "mnist_v5_writeup.json", "write-up counts (CPU)"),
    ]
    for path in sorted((results / "frontier").glob("*.json")):
        if is_results_file(path):
            kind = "distilled (CPU)" if "distilled" in path.stem else "frontier recipes (CPU)"
            studies.append((path, kind))
    points = deployable_points([s for s in studies if s[0].is_file()], results / "mcu")
    _write_if_changed(GENERATED_DIR / "deployable.rst", deployable_rst(points))
    accuracy = [p.point for p in points]
    targets = {"99.4 %": 0.994}
    for name, cost, label in (
        ("instructions", {p.point.label: p.instructions for p in points},
         "instructions per inference on a Cortex-M4"),
        ("flash", {p.point.label: p.flash_bytes for p in points},
         "model flash bytes on a Cortex-M4 (int8 .tflite)"),
    ):  # fmt: skip
        figure = accuracy_cost_figure(accuracy, cost, cost_label=label, targets=targets)
        _write_bytes_if_changed(figures / f"deployable_{name}.png", png_bytes(figure))


def _fashion_confusion(results: Path, figures: Path) -> None:
    """The confusion matrix of the first FashionMNIST model file on the test set, if any.

    Needs the FashionMNIST test files (``TINYCONV_DATA``, default ``../shared/data``
    seen from the repository); without them the page says the figure was not drawn.
    """
    from tinyconv.data import load_dataset, score_images
    from tinyconv.errors import TinyconvError
    from tinyconv.plots import confusion_figure
    from tinyconv.plots._style import png_bytes

    models = sorted(results.glob("*/seed0.model.pt"))
    note = GENERATED_DIR / "fashion_confusion.rst"
    if not models:
        _write_if_changed(note, "No FashionMNIST model file is recorded yet.\n")
        return
    chosen = next((m for m in models if m.parent.name == "fashion_v5"), models[0])
    root = os.environ.get("TINYCONV_DATA") or REPO_ROOT.parent / "shared" / "data"
    try:
        test = load_dataset("fashion_mnist", root, train=False)
    except TinyconvError as error:
        reason = " ".join(str(error).split())  # one paragraph, whatever the message's lines
        _write_if_changed(note, f"The confusion matrix was not drawn: {reason}\n")
        return
    model = tinyconv.load(chosen)
    figure = confusion_figure(score_images(model, test), model_name=f"{chosen.parent.name} seed 0")
    _write_bytes_if_changed(figures / "fashion_confusion.png", png_bytes(figure))
    relative = chosen.relative_to(REPO_ROOT).as_posix()
    _write_if_changed(
        note,
        f".. figure:: /_generated/figures/fashion_confusion.png\n   :width: 100%\n\n"
        f"   Confusion matrix of ``{relative}`` on the 10,000 FashionMNIST test images "
        "(drawn at doc build time).\n",
    )


_generate_figures()


# -- Fix-ups of autodoc output ------------------------------------------------


def _defining_module_doc(obj: object, name: str) -> list[str] | None:
    """The attribute docstring of ``name`` in the tinyconv module that defines ``obj``.

    A constant such as ``tinyconv.ACTIVATIONS`` is documented where it is defined
    (``tinyconv/activations.py``), but autodoc looks for attribute docstrings only in
    the module it documents (``tinyconv``) and otherwise falls back to the docstring of
    the value's type (``dict``), which is not about tinyconv at all.
    """
    from sphinx.pycode import ModuleAnalyzer

    for module_name in sorted(sys.modules, key=len, reverse=True):
        module = sys.modules[module_name]
        if not module_name.startswith("tinyconv") or getattr(module, name, None) is not obj:
            continue
        try:
            attr_docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
        except Exception:  # no source for this module: try the next one
            continue
        if ("", name) in attr_docs:
            return list(attr_docs[("", name)])
    return None


def _document_reexported_data(
    app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """Use a constant's own docstring, never the docstring of its value's type."""
    if what != "data" or not name.startswith("tinyconv"):
        return
    own = _defining_module_doc(obj, name.rsplit(".", 1)[-1])
    if own is not None:
        lines[:] = own
    elif lines and inspect.getdoc(obj) == inspect.getdoc(type(obj)):
        lines.clear()


def _hide_protocol_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """Show ``class BatchLoader`` rather than the meaningless ``BatchLoader(*args, **kwargs)``."""
    if what == "class" and getattr(obj, "_is_protocol", False):
        return "", return_annotation
    return None


def setup(app: Sphinx) -> None:
    """Register the two fix-ups; the docstring one runs before napoleon (priority 500)."""
    app.connect("autodoc-process-docstring", _document_reexported_data, priority=400)
    app.connect("autodoc-process-signature", _hide_protocol_signature)
