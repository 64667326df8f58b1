from __future__ import annotations

import json

from tinyconv.compress.tables import pruning_summary_rst


def _write_run(folder, seed: int, epochs: int, pruned: float, scratch: float) -> None:
    run = {
        "budget": 2000,
        "seed": seed,
        "epochs": 5,
        "pruned_finetuned": {"test_acc_final": pruned},
        "scratch": {"test_acc_final": scratch, "epochs": epochs},
    }
    suffix = "" if epochs == 5 else f"_scratch{epochs}"
    (folder / f"v5_seed{seed}_max2000_e5{suffix}.json").write_text(json.dumps(run))


def _cells(row: str) -> list[str]:
    """The cells of one list-table row after its first: each line's text after "- "."""
    return [line.split("-", 1)[1].strip() for line in row.strip("\n").splitlines()]


def test_pruning_summary_pairs_each_seed_with_its_own_scratch_run(tmp_path):
    folder = tmp_path / "compress"
    folder.mkdir()
    for seed, (pruned, scratch5, scratch20) in enumerate([(0.99, 0.97, 0.985), (0.98, 0.96, 0.99)]):
        _write_run(folder, seed, 5, pruned, scratch5)
        _write_run(folder, seed, 20, pruned, scratch20)
    table = pruning_summary_rst(tmp_path)
    row = table.split("* - V5 (MNIST)")[1]
    cells = _cells(row)
    assert cells[:3] == ["≤ 2,000", "0, 1", "98.50 % ± 0.71 (n=2)"]
    assert cells[3:5] == ["96.50 % ± 0.71 (n=2)", "98.75 % ± 0.35 (n=2)"]
    # paired: +0.5 and -1.0 points -> mean -0.25, sample std 1.06
    assert cells[5] == "-0.25 ± 1.06"


def test_pruning_summary_says_not_run_for_a_missing_scratch_length(tmp_path):
    folder = tmp_path / "compress"
    folder.mkdir()
    _write_run(folder, 0, 5, 0.99, 0.97)
    row = pruning_summary_rst(tmp_path).split("* - V5 (MNIST)")[1]
    cells = _cells(row)
    assert cells[2:] == ["99.00 % (n=1)", "97.00 % (n=1)", "not run", ""]
