"""``tinyconv summary`` in a real subprocess."""

from __future__ import annotations

from pathlib import Path

import tinyconv as tc

from .conftest import assert_one_error_line


def test_a_ready_recipe_prints_its_table_and_meets_its_budget(tinyconv_command) -> None:
    done = tinyconv_command("summary", "mnist_v5", "--max-params", "8000")
    assert done.returncode == 0, done.stderr
    assert "Total params: 6,364" in done.stdout and "Budget: 8,000 parameters, met." in done.stdout


def test_a_model_file_prints_the_table_of_its_weights(tinyconv_command, tmp_path: Path) -> None:
    model = tc.build([tc.ConvSpec(out_channels=4), tc.GAPHeadSpec(num_classes=10)], seed=0)
    tc.save(model, tmp_path / "tiny.model.pt", dataset="mnist")
    done = tinyconv_command("summary", str(tmp_path / "tiny.model.pt"))
    assert done.returncode == 0, done.stderr
    assert f"Total params: {tc.count_parameters(model):,}" in done.stdout


def test_an_over_budget_model_is_one_error_line(tinyconv_command) -> None:
    done = tinyconv_command("summary", "mnist_v5", "--max-params", "5000")
    assert_one_error_line(done, "6,364", "5,000")


def test_the_device_estimate_is_shown_and_its_budgets_checked(tinyconv_command) -> None:
    done = tinyconv_command("summary", "mnist_4k_onecycle", "--max-flash", "32000",
                            "--max-arena", "16000")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Estimated on a cortex-m4 with TFLite Micro + CMSIS-NN" in done.stdout
    assert "Budget: 32,000 flash bytes, 16,000 arena bytes, met." in done.stdout
    over = tinyconv_command("summary", "mnist_v5", "--max-arena", "10000")
    assert_one_error_line(over, "arena bytes on a cortex-m4", "10,000", "tinyconv mcu")


def test_an_unknown_target_is_one_error_line(tinyconv_command) -> None:
    assert_one_error_line(tinyconv_command("summary", "mnist_v9"), "mnist_v9")


def test_a_recipe_on_another_dataset_shows_that_datasets_model(tinyconv_command) -> None:
    done = tinyconv_command("summary", "mnist_v5", "--dataset", "fashion_mnist")
    assert done.returncode == 0, done.stderr
    assert "Total params: 6,364" in done.stdout  # one channel, ten classes: the same count
    assert_one_error_line(
        tinyconv_command("summary", "mnist_v5", "--dataset", "no_such_set"), "no_such_set"
    )
