"""The compression pages' tables, written from the committed results files.

Each function reads JSON files under a ``results`` folder (the repository's ``results/``)
and returns a reStructuredText list-table (:func:`~tinyconv.formatting.list_table`), or one
sentence where nothing is recorded yet; the docs build writes them into its pages. Paths
in the tables are relative to the folder above ``results``, as committed.

- :func:`int8_drops_rst`: every post-training int8 ONNX export against its fp32 model.
- :func:`qat_rst`: every quantization-aware export beside the post-training one.
- :func:`distillation_rst`: a recipe without and with a teacher, seed by seed.
- :func:`pruning_summary_rst`: pruned and fine-tuned against trained from scratch.

None of them needs an extra: they read saved reports only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tinyconv.export.onnx_report import REPORT_FORMAT, load_report
from tinyconv.formatting import list_table, percent, percent_spread, signed_points
from tinyconv.report_files import reports_in

__all__ = [
    "PRUNING_SOURCES",
    "distillation_rst",
    "int8_drops_rst",
    "pruning_runs",
    "pruning_summary_rst",
    "qat_rst",
]

PRUNING_SOURCES = {"v5": "V5 (MNIST)", "fashion_v5": "``fashion_v5`` (FashionMNIST)"}
"""The pruning results' file prefixes (``examples/prune_v5.py``) and the source they name."""


def _export_reports(results: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every ``tinyconv export`` (ONNX) report under ``results``, with its path."""
    return reports_in(results, REPORT_FORMAT, recursive=True)


def int8_drops_rst(results: str | Path) -> str:
    """Every post-training int8 report under ``results``: int8 against fp32 in onnxruntime.

    Args:
        results: The results folder (searched recursively).

    Returns:
        An rst list-table, one row per report (quantization-aware exports left out).

    Example:
        >>> int8_drops_rst("/nonexistent").splitlines()[0]
        '.. list-table::'
    """
    results = Path(results)
    header = ["Model file", "Params (folded)", "Test images", "fp32 (ONNX)", "int8 (ONNX QDQ)"]
    header += ["int8 minus fp32 (points)", "Report"]
    rows: list[list[object]] = []
    for path, report in _export_reports(results):
        accuracy = report.get("accuracy") or {}
        if accuracy.get("onnx_int8") is None or report.get("quantization_aware"):
            continue
        row = [f"``{report['model']}``", f"{report['params']:,}"]
        row += [f"{accuracy['test_images']:,}", percent(accuracy["onnx_fp32"])]
        row += [percent(accuracy["onnx_int8"]), f"{accuracy['int8_minus_fp32_points']:+.2f}"]
        row += [f"``{path.relative_to(results.parent).as_posix()}``"]
        rows.append(row)
    return list_table(header, rows)


def _model_key(model: str) -> str:
    """The same model file wherever it was exported from: its folder and name.

    A ``tinyconv prune`` output (``<run>/pruned/model.pt``) keeps the folder above too.
    """
    parts = Path(model).parts
    return "/".join(parts[-3:] if parts[-1] == "model.pt" else parts[-2:])


def qat_rst(results: str | Path) -> str:
    """Each quantization-aware export under ``results/compress/qat``, beside post-training.

    A post-training report of the same model file and test images (anywhere under
    ``results``) gives the "int8 post-training" column; a ``<run>.control.json`` beside
    the run gives the float model fine-tuned as long without quantization.

    Args:
        results: The results folder.

    Returns:
        An rst list-table, or one sentence when no quantization-aware export is there.

    Raises:
        ValueError: If two post-training reports of one model and test set disagree.

    Example:
        >>> qat_rst("/nonexistent").strip()
        'No quantization-aware export is recorded yet.'
    """
    results = Path(results)
    qat_dir = results / "compress" / "qat"
    post_training: dict[tuple[str, str, int], dict[str, Any]] = {}
    for path, report in _export_reports(results):
        accuracy = report["accuracy"]
        if report.get("quantization_aware") is not None or accuracy.get("onnx_int8") is None:
            continue
        key = (report["dataset"], _model_key(report["model"]), accuracy["test_images"])
        if key in post_training and post_training[key] != accuracy:
            raise ValueError(f"two post-training reports of {key} disagree; one is {path}")
        post_training[key] = accuracy
    header = ["Model file", "fp32", "int8 post-training", "int8 QAT", "QAT minus fp32 (points)"]
    header += ["Float control", "Val int8 before → after", "Epochs, lr"]
    rows: list[list[object]] = []
    for path in sorted(qat_dir.glob("*/*.export.json")):
        report = load_report(path)
        accuracy, aware = report["accuracy"], report["quantization_aware"]
        key = (report["dataset"], _model_key(report["model"]), accuracy["test_images"])
        control_file = qat_dir / f"{path.parent.name}.control.json"
        control = None
        if control_file.is_file():
            control = json.loads(control_file.read_text())["test_acc_fine_tuned_float"]
        after = aware["history"][-1]["eval_acc"]
        rows.append(
            [
                f"``{path.parent.name}``",
                percent(accuracy["pytorch"]),
                percent(post_training.get(key, {}).get("onnx_int8")),
                percent(accuracy["onnx_int8"]),
                f"{accuracy['int8_minus_fp32_points']:+.2f}",
                percent(control),
                f"{percent(aware['val_acc_start'])} → {percent(after)}",
                f"{aware['epochs']}, {aware['lr']:g}",
            ]
        )
    if not rows:
        return "No quantization-aware export is recorded yet.\n"
    return list_table(header, rows)


def distillation_rst(plain_path: str | Path, taught_path: str | Path, plain_label: str) -> str:
    """Per seed: a recipe without and with the teacher, on test (the seeds both files hold).

    Args:
        plain_path: The study results file trained without a teacher.
        taught_path: The study results file of the same recipe with the teacher.
        plain_label: How the table names the run without the teacher.

    Returns:
        An rst list-table (one row per seed, then the means), or one sentence when
        ``taught_path`` is not there yet.

    Example:
        >>> distillation_rst("a.json", "/nonexistent.json", "v5").strip()
        'No distilled run is recorded yet.'
    """
    if not Path(taught_path).is_file():
        return "No distilled run is recorded yet.\n"
    plain = json.loads(Path(plain_path).read_text())["seeds"]
    taught = json.loads(Path(taught_path).read_text())["seeds"]
    seeds = sorted(set(plain) & set(taught), key=int)
    header = ["Seed", f"Without teacher ({plain_label})", "With teacher", "Difference"]
    header += ["Wall time without / with"]
    rows: list[list[object]] = []
    for seed in seeds:
        a, b = plain[seed]["final_test_acc"], taught[seed]["final_test_acc"]
        wall = f"{plain[seed]['wall_seconds']:.0f} s / {taught[seed]['wall_seconds']:.0f} s"
        rows.append([seed, percent(a), percent(b), signed_points([b - a]), wall])
    a = [plain[seed]["final_test_acc"] for seed in seeds]
    b = [taught[seed]["final_test_acc"] for seed in seeds]
    differences = [y - x for x, y in zip(a, b, strict=True)]
    rows.append(
        [
            f"mean of {len(seeds)}",
            percent_spread(a),
            percent_spread(b),
            signed_points(differences),
            "",
        ]
    )
    return list_table(header, rows)


def pruning_runs(
    results: str | Path,
) -> dict[tuple[str, int], dict[int, dict[str, Any]]]:
    """Every pruning experiment by (source prefix, budget) and seed.

    One seed's 5- and 20-epoch files repeat its pruned and fine-tuned run; the scratch
    runs of both are kept under ``scratch_e{epochs}``.

    Args:
        results: The results folder (its ``compress/<source>_seed<s>_max<budget>_e5*.json``).

    Returns:
        ``{(source prefix, budget): {seed: {"pruned": run, "scratch_e5": run, ...}}}``.

    Example:
        >>> pruning_runs("/nonexistent")
        {}
    """
    runs: dict[tuple[str, int], dict[int, dict[str, Any]]] = {}
    for path in sorted((Path(results) / "compress").glob("*_seed*_max*_e5*.json")):
        match = re.match(r"(.+)_seed\d+_max", path.name)
        if match is None:
            continue
        run = json.loads(path.read_text())
        seed_runs = runs.setdefault((match.group(1), run["budget"]), {})
        merged = seed_runs.setdefault(run["seed"], {"pruned": run["pruned_finetuned"]})
        merged[f"scratch_e{run['scratch'].get('epochs', run['epochs'])}"] = run["scratch"]
    return runs


def _accuracies(values: list[float]) -> str:
    return f"{percent_spread(values)} (n={len(values)})" if values else "not run"


def pruning_summary_rst(results: str | Path) -> str:
    """Per source and budget: pruned + fine-tuned against from scratch, mean ± std over seeds.

    Args:
        results: The results folder (its ``compress/<source>_seed<s>_max<budget>_e5*.json``
            files, written by ``examples/prune_v5.py``).

    Returns:
        An rst list-table, V5's rows first.

    Example:
        >>> pruning_summary_rst("/nonexistent").splitlines()[0]
        '.. list-table::'
    """
    header = ["Source", "Budget", "Seeds", "Pruned + 5 ep. fine-tuning", "Scratch, 5 ep."]
    header += ["Scratch, 20 ep.", "Pruned minus scratch 20 ep. (points, paired)"]
    rows: list[list[object]] = []
    runs = pruning_runs(results)
    for (prefix, budget), seeds in sorted(runs.items(), key=lambda kv: (kv[0][0] != "v5", kv[0])):
        ordered = [seeds[s] for s in sorted(seeds)]
        scratch = {
            epochs: [
                run[f"scratch_e{epochs}"]["test_acc_final"]
                for run in ordered
                if f"scratch_e{epochs}" in run
            ]
            for epochs in (5, 20)
        }
        paired = [
            run["pruned"]["test_acc_final"] - run["scratch_e20"]["test_acc_final"]
            for run in ordered
            if "scratch_e20" in run
        ]
        rows.append(
            [
                PRUNING_SOURCES.get(prefix, prefix),
                f"≤ {budget:,}",
                ", ".join(map(str, sorted(seeds))),
                _accuracies([run["pruned"]["test_acc_final"] for run in ordered]),
                _accuracies(scratch[5]),
                _accuracies(scratch[20]),
                signed_points(paired) if paired else "",
            ]
        )
    return list_table(header, rows)
