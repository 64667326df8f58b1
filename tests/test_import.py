"""``import tinyconv`` is lean: the core only, subpackages and extras on first use."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "torchvision",
    "tqdm",
    "matplotlib",
    "optuna",
    "onnx",
    "onnxruntime",
    "einops",
    "tinyconv.cli",
    "tinyconv.data",
    "tinyconv.train",
    "tinyconv.study",
    "tinyconv.export",
    "tinyconv.mcu",
    "tinyconv.plots",
    "tinyconv.search",
)


def _run(code: str) -> object:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_import_tinyconv_loads_no_subpackage_or_extra_beyond_what_torch_loads() -> None:
    loaded = _run(
        "import json, sys, torch\n"
        "before = set(sys.modules)\n"
        "import tinyconv\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in set(sys.modules) - before)))"
    )
    assert loaded == []


def test_subpackages_and_lazy_names_load_on_first_use() -> None:
    names = _run(
        "import json, sys, tinyconv\n"
        "first = 'tinyconv.train' in sys.modules\n"
        "fit = tinyconv.train.fit\n"
        "print(json.dumps([first, 'tinyconv.train' in sys.modules, tinyconv.Recipe.__module__,"
        " tinyconv.train_recipe.__module__, 'Recipe' in dir(tinyconv)]))"
    )
    assert names == [False, True, "tinyconv.recipe", "tinyconv.experiment", True]


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    import pytest

    import tinyconv

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tinyconv.nope  # noqa: B018
