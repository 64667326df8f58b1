"""Reproduction studies: recipes as data, multi-seed runs that resume, honest aggregates."""

from tinyconv.study.cli import main
from tinyconv.study.recipe import Recipe, run_seed
from tinyconv.study.results import ResultsFileError, load_results
from tinyconv.study.runner import run_study
from tinyconv.study.seed_stats import aggregate
from tinyconv.study.tables import results_markdown, results_rows, results_rst

__all__ = [
    "Recipe",
    "ResultsFileError",
    "aggregate",
    "load_results",
    "main",
    "results_markdown",
    "results_rows",
    "results_rst",
    "run_seed",
    "run_study",
]
