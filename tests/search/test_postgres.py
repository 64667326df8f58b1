"""Two workers on one study in a real PostgreSQL server (Debian's postgresql package).

The server comes from TINYCONV_TEST_POSTGRES_URL (``.ci/run`` starts it and exports the
URL), else from ``start_postgres.sh`` beside this file (root only). The test skips only
when neither gives a server, and says why.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from optuna.trial import TrialState

from tinyconv.search import load_search
from tinyconv.search.storage import open_storage

from .conftest import SMALL, run_tinyconv, space

URL_VARIABLE = "TINYCONV_TEST_POSTGRES_URL"


@pytest.fixture(scope="module")
def postgres_url() -> str:
    url = os.environ.get(URL_VARIABLE)
    if url:
        return url
    script = Path(__file__).with_name("start_postgres.sh")
    result = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode == 3:
        pytest.skip(f"{URL_VARIABLE} is unset and no local server: {result.stderr.strip()}")
    assert result.returncode == 0, f"start_postgres.sh failed: {result.stderr}"
    url = result.stdout.strip()
    assert url.startswith("postgresql+psycopg://") and "\n" not in url, (
        f"start_postgres.sh must print only the URL on stdout, printed {url!r}"
    )
    return url


def test_two_workers_share_one_study_in_postgresql(
    postgres_url: str, tmp_path: Path, train_only_root: Path
) -> None:
    name = f"pg_{uuid.uuid4().hex[:10]}"
    result = run_tinyconv(
        "search", space("tiny"), "--trials", "4", "--out", tmp_path, "--workers", "2",
        "--storage", postgres_url, "--study-name", name, "--epochs", "1",
        "--data-dir", train_only_root, *SMALL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "tinyconv:tinyconv@" not in result.stdout  # the password is never printed
    study = load_search(postgres_url, name)
    finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(finished) == 4
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    assert open_storage(postgres_url, tmp_path).get_heartbeat_interval() is not None
