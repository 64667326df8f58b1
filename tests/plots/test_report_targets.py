"""A results report counts seeds against its own dataset's target, and says which."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyconv.plots import build_report

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("results", "label"),
    [
        ("results/fashion/fashion_v5.json", "Seeds ≥ 92.5 %"),
        ("results/mnist_v5.json", "Seeds ≥ 99.4 %"),
    ],
)
def test_the_report_labels_hits_with_the_dataset_s_own_target(
    results: str, label: str, tmp_path: Path
) -> None:
    """Issue 16: FashionMNIST results were labelled "Seeds ≥ 99.4 %" (MNIST's bar)."""
    build_report(REPO_ROOT / results, tmp_path, data_dir=tmp_path / "no data here")
    page = (tmp_path / "index.html").read_text()
    assert label in page
    assert ("99.4 %" in page) == ("mnist_v5" in results)


def test_curves_draw_the_results_dataset_s_target_by_default() -> None:
    from tinyconv.plots import compare_recipes, learning_curves

    fashion = REPO_ROOT / "results/fashion/fashion_v5.json"
    for figure in (learning_curves(fashion), compare_recipes([fashion])):
        (line,) = [item for item in figure.axes[0].lines if item.get_gid() == "target"]
        assert line.get_ydata()[0] == pytest.approx(92.5)
    mixed = compare_recipes([fashion, REPO_ROOT / "results/mnist_v5.json"])
    assert not [item for item in mixed.axes[0].lines if item.get_gid() == "target"]
