"""The results file: a digest refuses truncated or edited files; seed records merge in;
every committed results file still loads, aggregates and resumes; targets come from the
dataset registry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from damaged_files import damaged_copies, spread_offsets

from tinyconv.data import dataset_info, load_dataset
from tinyconv.errors import ResultsMismatchError
from tinyconv.recipe import Recipe
from tinyconv.study import ResultsFileError, aggregate, load_results, run_study
from tinyconv.study.results import (
    RESULTS_FORMAT,
    RESULTS_VERSION,
    is_results_file,
    load_study,
    write_seed_record,
)
from tinyconv.study.seed_stats import results_target

REPO = Path(__file__).resolve().parents[2]
COMMITTED = sorted(
    path for path in REPO.glob("results/**/*.json") if is_results_file(path) and path.is_file()
)


def result(seed: int, acc: float = 0.99) -> dict:
    return {
        "seed": seed,
        "device": "cpu",
        "device_name": "cpu",
        "params": 100,
        "epochs": 2,
        "train_samples": 500,
        "test_samples": 100,
        "final_test_acc": acc,
        "final_train_acc": 0.9,
        "best_test_acc": acc,
        "best_epoch": 2,
        "wall_seconds": 1.5,
        "history": [{"epoch": 1, "eval_acc": 0.5, "lr": 0.1}],
    }


def written(tmp_path: Path, seeds: int = 3) -> Path:
    path = tmp_path / "v9.json"
    data = load_study(path, {"name": "v9", "dataset": "mnist"}, 2)
    for seed in range(seeds):
        data = write_seed_record(path, data, result(seed, 0.99 + seed / 1000))
    return path


def test_a_results_file_carries_its_format_and_a_digest(tmp_path: Path) -> None:
    path = written(tmp_path)
    raw = json.loads(path.read_text())
    assert (raw["format"], raw["version"]) == (RESULTS_FORMAT, RESULTS_VERSION)
    assert raw["digest"].startswith("sha256:")
    data = load_results(path)
    assert "digest" not in data and sorted(data["seeds"]) == ["0", "1", "2"]


def test_an_edited_number_is_refused_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    path = written(tmp_path)
    path.write_text(path.read_text().replace('"final_test_acc": 0.99,', '"final_test_acc": 0.999,'))
    with pytest.raises(ResultsFileError, match=r"v9.json' was changed after it was written.*git"):
        load_results(path)


def test_removing_the_format_tag_does_not_pass_for_an_old_file(tmp_path: Path) -> None:
    path = written(tmp_path)
    data = json.loads(path.read_text())
    del data["format"]
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsFileError, match=r"v9\.json' is not a tinyconv\.results file"):
        load_results(path)


def test_damage_anywhere_is_refused_or_changes_nothing(tmp_path: Path) -> None:
    """Issue 21 point 1: bytes flipped at many offsets, and truncations."""
    path = written(tmp_path)
    intact = load_results(path)
    tried = refused = 0
    for what, copy in damaged_copies(path, spread_offsets(path, 150), tmp_path / "damaged"):
        tried += 1
        try:
            loaded = load_results(copy)
        except ResultsFileError as error:
            assert str(copy) in str(error), what
            refused += 1
            continue
        assert loaded == intact, f"{what}: loaded something else"
    assert refused >= 0.9 * tried  # only JSON whitespace changes nothing


def test_a_damaged_seed_record_is_refused_too(tmp_path: Path) -> None:
    path = written(tmp_path)
    record = tmp_path / "v9" / "seed1.json"
    record.write_text(record.read_text()[:-40])
    with pytest.raises(ResultsFileError, match=r"seed1.json' is not valid JSON"):
        load_results(path)


def test_seed_records_join_a_results_file_that_lags_behind(tmp_path: Path) -> None:
    """Each seed's own record is merged in, even if the results file was rebuilt before it."""
    path = written(tmp_path, seeds=2)
    stale = path.read_text()
    data = load_study(path, {"name": "v9", "dataset": "mnist"}, 2)
    write_seed_record(path, data, result(7))
    path.write_text(stale)  # as if another process rebuilt it from an older view
    assert sorted(load_results(path)["seeds"], key=int) == ["0", "1", "7"]


def test_a_seed_record_of_another_setting_is_refused(tmp_path: Path) -> None:
    path = written(tmp_path, seeds=1)
    other = tmp_path / "elsewhere" / "v9.json"
    data = load_study(other, {"name": "v9", "dataset": "mnist"}, 5)
    write_seed_record(other, data, result(4))
    shutil.copy(other.with_suffix("") / "seed4.json", tmp_path / "v9" / "seed4.json")
    with pytest.raises(
        ResultsMismatchError, match=r"different setting \(the number of epochs differs\)"
    ):
        load_results(path)


def test_targets_come_from_the_dataset_registry() -> None:
    fashion = load_results(REPO / "results/fashion/fashion_v5.json")
    assert results_target(fashion) == dataset_info("fashion_mnist").target_accuracy == 0.925
    assert aggregate(fashion)["target"] == 0.925
    mnist = load_results(REPO / "results/mnist_v5.json")
    assert aggregate(mnist)["target"] == dataset_info("mnist").target_accuracy == 0.994


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(REPO / "results")))
def test_every_committed_results_file_loads_and_aggregates(path: Path) -> None:
    data = load_results(path)
    row = aggregate(data)
    # 15 epochs, but the teacher (8: tinyconv study mnist_teacher --epochs 8) and the
    # FashionMNIST candidate declared for the goal's 30 epochs
    assert row["seeds"] == len(data["seeds"]) > 0
    epochs = 8 if "teacher" in path.name else 30 if path.name == "fashion_wide_plain.json" else 15
    assert row["epochs"] == data["recipe"]["train"]["epochs"] == epochs
    assert 0.85 < row["final_mean"] < 1 and row["target"] in (0.994, 0.925)


@pytest.mark.mnist
@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(REPO / "results")))
def test_every_committed_results_file_resumes(
    path: Path, tmp_path: Path, mnist_root: Path, fashion_root: Path
) -> None:
    """A study over the committed seeds trains nothing, says where each came from."""
    recorded = json.loads(path.read_text())
    recipe = Recipe.from_dict(recorded["recipe"])
    root = fashion_root if recipe.dataset == "fashion_mnist" else mnist_root
    train = load_dataset(recipe.dataset, root, train=True)
    test = load_dataset(recipe.dataset, root, train=False)
    shutil.copy(path, tmp_path / path.name)
    seeds = sorted(map(int, recorded["seeds"]))
    lines: list[str] = []
    data = run_study(
        recipe, seeds, train, test, out_dir=tmp_path, device="cpu", on_event=lines.append
    )
    first = recorded["seeds"][str(seeds[0])]
    device = first["device_name"]
    if "provenance" in first:  # written by a tinyconv that records where and when
        facts = first["provenance"]
        when = facts["finished_at"].replace("T", " ")[:16]
        dirty = " (with uncommitted changes)" if facts.get("git_dirty") else ""
        assert lines[0] == (
            f"seed {seeds[0]}: already finished on {device} on {when} UTC with tinyconv "
            f"{facts['tinyconv_version']} at commit {facts['git_commit'][:12]}{dirty}, skipped"
        )
    else:
        assert lines[0] == (
            f"seed {seeds[0]}: already finished on {device} (date, tinyconv version and "
            "commit not recorded: an older tinyconv wrote it), skipped"
        )
    assert len(lines) == len(seeds) and all("already finished on" in line for line in lines)
    assert data["seeds"] == recorded["seeds"]
    assert (tmp_path / path.name).read_text() == path.read_text()  # nothing rewritten
