"""Reproduction studies: recipes as data, multi-seed runs that resume, honest aggregates."""

from tinyconv.study.cli import main
from tinyconv.study.recipe import Recipe, run_seed
from tinyconv.study.report import results_markdown, results_rows, results_rst
from tinyconv.study.runner import TARGET_ACCURACY, aggregate, load_results, run_study

__all__ = [
    "TARGET_ACCURACY",
    "Recipe",
    "aggregate",
    "load_results",
    "main",
    "results_markdown",
    "results_rows",
    "results_rst",
    "run_seed",
    "run_study",
]
