from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyconv.data import dataset_info
from tinyconv.plots import (
    ReportInputError,
    compare_recipes,
    learning_curves,
    save_png,
    seed_curves,
)
from tinyconv.study import load_results

REPO_ROOT = Path(__file__).resolve().parents[2]
V5_RESULTS = REPO_ROOT / "results" / "mnist_v5.json"


def by_gid(ax, gid: str):
    found = [a for a in [*ax.lines, *ax.collections] if a.get_gid() == gid]
    assert len(found) == 1, [a.get_gid() for a in [*ax.lines, *ax.collections]]
    return found[0]


def seed_table(field: str) -> np.ndarray:
    data = load_results(V5_RESULTS)
    return np.array(
        [[row[field] for row in run["history"]] for _, run in sorted(data["seeds"].items())]
    )


def test_seed_curves_read_every_seed_of_a_real_results_file() -> None:
    curves = seed_curves(V5_RESULTS)
    assert curves.seeds == (0, 1, 2, 3, 4)
    assert curves.eval_acc.shape == (5, 15)
    np.testing.assert_array_equal(curves.eval_acc, seed_table("eval_acc"))
    assert list(curves.epochs) == list(range(1, 16))


def test_band_bounds_are_min_and_max_over_seeds_and_line_is_the_mean() -> None:
    fig = learning_curves(V5_RESULTS)
    acc_ax = fig.axes[0]
    test_acc = 100 * seed_table("eval_acc")
    line = by_gid(acc_ax, "mean:test_acc")
    np.testing.assert_allclose(line.get_ydata(), test_acc.mean(axis=0))
    band = by_gid(acc_ax, "band:test_acc")
    vertices = band.get_paths()[0].vertices
    for epoch in range(1, 16):
        ys = vertices[np.isclose(vertices[:, 0], epoch), 1]
        assert ys.min() == pytest.approx(test_acc[:, epoch - 1].min())
        assert ys.max() == pytest.approx(test_acc[:, epoch - 1].max())
    target = by_gid(acc_ax, "target")
    assert target.get_ydata()[0] == pytest.approx(100 * dataset_info("mnist").target_accuracy)
    lr = by_gid(fig.axes[2], "lr")
    np.testing.assert_allclose(lr.get_ydata(), seed_table("lr").mean(axis=0))
    assert acc_ax.get_xlabel() == "epoch" and "%" in acc_ax.get_ylabel()
    assert "mnist_v5" in fig.get_suptitle() and "5 seeds" in fig.get_suptitle()
    assert "on MNIST" in fig.get_suptitle()


def test_a_figure_names_the_dataset_its_results_trained_on() -> None:
    fashion = REPO_ROOT / "results" / "fashion" / "fashion_v5.json"
    assert "fashion_v5 on FashionMNIST:" in learning_curves(fashion).get_suptitle()
    assert "on FashionMNIST" in compare_recipes([fashion]).axes[0].get_title()
    mixed = compare_recipes([fashion, REPO_ROOT / "results" / "mnist_v5.json"])
    assert "on several datasets" in mixed.axes[0].get_title()


def test_comparison_puts_every_recipe_on_one_axis_with_its_final_mean() -> None:
    paths = [REPO_ROOT / "results" / f"mnist_v{v}.json" for v in range(1, 6)]
    fig = compare_recipes(paths)
    assert len(fig.axes) == 1
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    for path, text in zip(paths, legend, strict=False):
        final = [run["final_test_acc"] for run in load_results(path)["seeds"].values()]
        assert text.startswith(f"{path.stem}: {100 * np.mean(final):.2f} ± ")


def test_png_bytes_are_the_same_for_the_same_input(tmp_path: Path) -> None:
    first = save_png(learning_curves(V5_RESULTS), tmp_path / "a.png").read_bytes()
    second = save_png(learning_curves(V5_RESULTS), tmp_path / "b.png").read_bytes()
    assert first == second
    assert first.startswith(b"\x89PNG") and b"Software" not in first and b"matplotlib" not in first


def test_results_without_seeds_are_refused_with_the_fix(tmp_path: Path) -> None:
    empty = tmp_path / "mnist_v9.json"
    empty.write_text(json.dumps({"recipe": {"name": "mnist_v9"}, "epochs": 15, "seeds": {}}))
    with pytest.raises(ReportInputError, match=r"no finished seed.*examples/mnist_v9.py"):
        learning_curves(empty)
