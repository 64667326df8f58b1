"""Provenance: the commit a result records is the checkout's that tinyconv runs from."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tinyconv import provenance as provenance_module

REPO = Path(__file__).resolve().parents[1]


def test_the_recorded_commit_is_this_checkouts_head() -> None:
    done = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    provenance_module._git_state.cache_clear()
    facts = provenance_module.provenance()
    assert facts["git_commit"] == done.stdout.strip()
    assert isinstance(facts["git_dirty"], bool)
