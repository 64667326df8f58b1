"""Imports go one way: from the command line down to the core, never back up.

The layers and their order are those of ``docs/architecture.rst``. Every ``tinyconv``
import in every module (at module level or inside a function) is checked against them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tinyconv"

LAYERS = (
    ("core", ()),  # every module not named below
    (
        "analysis",
        (
            "parameters",
            "summary",
            "layer_info",
            "receptive_field",
            "device_costs",
            "fold",
            "deployed_graph",
            "device_estimate",
        ),
    ),
    ("data", ("data",)),
    ("train", ("train",)),
    ("experiment", ("recipe", "distillation_spec", "experiment", "workers")),
    ("uses", ("study", "search", "export", "mcu", "plots", "recipes", "compress")),
    ("command", ("cli", "__main__")),
)

# Known upward imports, each with its reason. Keep this list short.
ALLOWED = {
    # train_recipe attaches a recipe's teacher term; imported only when a recipe names one.
    ("tinyconv.experiment", "tinyconv.compress.distill"),
    # save(dataset=) refuses a name no dataset is registered under: the registry is asked
    # inside save, only when a dataset name is given.
    ("tinyconv.model_file", "tinyconv.data"),
    # load() also reads a checkpoint written by fit for a TinyNet; the checkpoint's own
    # damage check is asked inside load, only for such a file.
    ("tinyconv.model_file", "tinyconv.train.checkpoint"),
}


def _layer(module: str) -> int:
    if module == "tinyconv":  # the package's face: re-exports the core and the analysis
        return 1
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    for index, (_, names) in enumerate(LAYERS):
        if top in names:
            return index
    return 0


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("tinyconv"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tinyconv"))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_a_module_imports_only_from_its_layer_or_the_layers_below(path: Path) -> None:
    module = _module_name(path)
    upward = sorted(
        target
        for target in _imports(path)
        if _layer(target) > _layer(module)
        and not any(module == m and target.startswith(t) for m, t in ALLOWED)
    )
    assert not upward, f"{module} ({LAYERS[_layer(module)][0]}) imports upward: {upward}"


def test_no_library_module_imports_the_command_line() -> None:
    offenders = [
        _module_name(path)
        for path in MODULES
        if _layer(_module_name(path)) < len(LAYERS) - 1
        and any(target.startswith("tinyconv.cli") for target in _imports(path))
    ]
    assert offenders == []
