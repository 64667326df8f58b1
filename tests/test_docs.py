"""The documentation: every public name is in the API reference, and the tutorial runs.

The API check parses ``docs/api/*.rst`` (no Sphinx build), so it is instant. The
tutorial's code lives in ``docs/tutorial_budget.py``, which the tutorial page
includes piece by piece; running it here keeps the page honest. The Sphinx build
itself runs once, in ``make docs`` (part of ``make test``), with warnings as errors.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO_ROOT / "docs"
API_DIR = DOCS_DIR / "api"


def _public_namespaces() -> tuple[str, ...]:
    """The list docs/conf.py uses too (docs/public_namespaces.py), one owner for both."""
    spec = importlib.util.spec_from_file_location(
        "public_namespaces", DOCS_DIR / "public_namespaces.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PUBLIC_NAMESPACES


PUBLIC_NAMESPACES = _public_namespaces()

_DIRECTIVE = re.compile(r"^\.\.\s+(?:py:)?([\w-]+)::\s*(\S*)\s*$")
_AUTO_OBJECT = {
    "autoclass",
    "autoexception",
    "autofunction",
    "autodata",
    "class",
    "exception",
    "function",
    "data",
}


def documented_names(rst: str) -> set[str]:
    """Fully qualified names an API page documents.

    Counts the entries of ``.. autosummary::`` tables and the targets of
    ``.. autoclass::``-style directives, each qualified by the
    ``.. currentmodule::`` (or ``.. module::``) in force.
    """
    names: set[str] = set()
    module = ""
    in_table = False
    for line in rst.splitlines():
        directive = _DIRECTIVE.match(line)
        if directive:
            kind, argument = directive.groups()
            in_table = kind == "autosummary"
            if kind in ("currentmodule", "module"):
                module = argument
            elif kind in _AUTO_OBJECT and argument:
                names.add(_qualify(module, argument))
            continue
        if in_table:
            if line and not line[0].isspace():
                in_table = False  # back at the left margin: the table is over
            elif line.strip() and not line.strip().startswith(":"):
                names.add(_qualify(module, line.strip()))
    return names


def _qualify(module: str, entry: str) -> str:
    entry = entry.lstrip("~")
    return entry if not module or entry.startswith(f"{module}.") else f"{module}.{entry}"


def api_reference_names() -> set[str]:
    names: set[str] = set()
    for page in sorted(API_DIR.glob("*.rst")):
        names |= documented_names(page.read_text(encoding="utf-8"))
    return names


def load_tutorial() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "tutorial_budget", DOCS_DIR / "tutorial_budget.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parser_reads_autosummary_tables_and_directives() -> None:
    rst = """
.. currentmodule:: tinyconv

.. autosummary::
   :toctree: generated

   build
   ~tinyconv.summary

Some prose that is not an entry.

.. autofunction:: check_budget
.. currentmodule:: tinyconv.data
.. autoclass:: TensorLoader
"""
    assert documented_names(rst) == {
        "tinyconv.build",
        "tinyconv.summary",
        "tinyconv.check_budget",
        "tinyconv.data.TensorLoader",
    }


@pytest.mark.parametrize("namespace", PUBLIC_NAMESPACES)
def test_every_public_name_is_in_the_api_reference(namespace: str) -> None:
    module = importlib.import_module(namespace)
    documented = api_reference_names()
    missing = [
        f"{namespace}.{name}" for name in module.__all__ if f"{namespace}.{name}" not in documented
    ]
    assert not missing, (
        f"{len(missing)} public name(s) of {namespace}.__all__ are not in the API reference: "
        f"{missing}; add them to an autosummary table in docs/api/*.rst"
    )


def test_every_api_reference_entry_is_public() -> None:
    public = {
        f"{ns}.{name}" for ns in PUBLIC_NAMESPACES for name in importlib.import_module(ns).__all__
    }
    stale = sorted(api_reference_names() - public)
    assert not stale, (
        f"the API reference lists names that are not in any public __all__: {stale}; "
        "remove them from docs/api/*.rst or export them"
    )


def test_tutorial_model_fits_its_budget() -> None:
    tutorial = load_tutorial()
    model = tutorial.build_model()
    from tinyconv import count_parameters

    assert count_parameters(model) == 6_364 <= tutorial.BUDGET
    message = tutorial.budget_error_message(model)
    assert "over the budget of 5,000 by 1,364" in message


@pytest.mark.mnist
def test_tutorial_script_trains_on_a_subset_of_mnist(
    mnist_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tutorial = load_tutorial()
    argv = [
        "--data-dir",
        str(mnist_root),
        "--train-images",
        "4096",
        "--epochs",
        "1",
        "--device",
        "cpu",
    ]
    assert tutorial.main(argv) == 0
    out = capsys.readouterr().out
    assert "Total params: 6,364" in out
    val = re.search(r"epoch 1: val accuracy ([\d.]+)%", out)
    test = re.search(r"test accuracy, measured once: ([\d.]+)%", out)
    assert val is not None and test is not None, out
    # One epoch on 4,096 images is far from converged, but well above chance (10 %).
    assert float(val.group(1)) > 30.0
    assert float(test.group(1)) > 30.0


@pytest.mark.mnist
def test_tutorial_script_twice_gives_identical_numbers(mnist_root: Path) -> None:
    """The same command, run twice in fresh processes, prints the same scores on the CPU."""
    command = [sys.executable, str(DOCS_DIR / "tutorial_budget.py"), "--data-dir", str(mnist_root)]
    command += ["--train-images", "1000", "--epochs", "1", "--device", "cpu"]
    outputs = [
        subprocess.run(command, capture_output=True, text=True, check=True, timeout=300).stdout
        for _ in range(2)
    ]
    assert "val accuracy" in outputs[0]
    assert outputs[0] == outputs[1]


def test_the_docs_maths_render_from_a_mathjax_in_the_build_not_the_network(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    from sphinx.cmd.build import build_main

    conf = (Path(__file__).resolve().parents[1] / "docs" / "conf.py").read_text()
    assert '"sphinx-mathjax-offline"' in conf
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        'extensions = ["sphinx.ext.mathjax", "sphinx-mathjax-offline"]\n'
    )
    (source / "index.rst").write_text("Shapes\n======\n\nInput: :math:`(B, C_{in}, H, W)`.\n")
    out = tmp_path / "html"
    assert build_main(["-q", "-b", "html", str(source), str(out)]) == 0
    page = (out / "index.html").read_text()
    scripts = re.findall(r'<script[^>]*src="([^"]*mathjax[^"]*)"', page, flags=re.IGNORECASE)
    assert scripts and all(not s.startswith(("http:", "https:", "//")) for s in scripts), scripts
    assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()
