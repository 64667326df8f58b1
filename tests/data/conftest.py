"""A private dataset registry per test, so registrations never leak into other tests."""

from __future__ import annotations

import pytest

from tinyconv.data import DATASETS_ENV_VAR, registry


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-ins only, no TINYCONV_DATASETS; restored after the test."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._BUILTINS))
    monkeypatch.setattr(registry, "_ENV_FOLDERS_SEEN", set())
    monkeypatch.delenv(DATASETS_ENV_VAR, raising=False)
