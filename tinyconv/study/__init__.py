"""Reproduction studies: multi-seed runs that resume, one results file, honest aggregates."""

from tinyconv.study.prepare import PreparedStudy, prepare_study
from tinyconv.study.results import ResultsFileError, load_results
from tinyconv.study.runner import run_study
from tinyconv.study.seed_stats import aggregate
from tinyconv.study.tables import results_markdown, results_rows, results_rst

__all__ = [
    "PreparedStudy",
    "ResultsFileError",
    "aggregate",
    "load_results",
    "prepare_study",
    "results_markdown",
    "results_rows",
    "results_rst",
    "run_study",
]
