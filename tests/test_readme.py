"""The README's code runs and prints what the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_a_python_example() -> None:
    assert python_blocks()


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_block_runs(
    index: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    block = python_blocks()[index]
    if "load_dataset" in block:  # the save, load, predict example reads the MNIST test split
        monkeypatch.setenv("TINYCONV_DATA", str(request.getfixturevalue("mnist_root")))
    namespace: dict[str, object] = {}
    exec(compile(block, f"README.md block {index}", "exec"), namespace)
    printed = capsys.readouterr().out
    if "predict(" in block:
        names = namespace["loaded"].class_names  # type: ignore[attr-defined]
        assert names == tuple(str(digit) for digit in range(10))
        assert printed.startswith("['") and printed.count("'") == 10  # five class names
        return
    assert "Total params: 2,892" in printed
    tc = namespace["tc"]
    assert tc.check_budget(namespace["model"], max_params=8000) == 2892  # type: ignore[attr-defined]
