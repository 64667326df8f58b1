"""The device estimates against emulated runs: fit on every shipped architecture, validate.

Two steps, each resumable:

1. ``--run``: for one model file of every architecture under ``results/`` (models that
   differ only in their weights cost the same), and for every ready recipe whose
   architecture has no model file there (trained for one epoch on 2,000 images: the
   weights only set the int8 scales), run ``tinyconv.mcu.run_on_mcu`` on each core
   asked for, over the first N test images of the model's dataset, and keep the report
   as ``results/mcu/shipped/<path>.<core>.json`` (reports already there are kept).
2. Fit (always): per core, fit the coefficients of :mod:`tinyconv.device_estimate` on all
   those reports, and for each architecture again with that architecture left out, which
   gives the error an estimate has on a model the fit has not seen. Writes the
   coefficients and those errors to ``tinyconv/device_estimate.json`` and every model's
   measured and left-out estimate to ``results/mcu/estimates.json``, and prints them.

    python benchmarks/mcu_estimates.py --run --cores cortex-m4 --images 100
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import tinyconv
from tinyconv.deployed_graph import deployed_ops
from tinyconv.device_costs import peak_activation_elements
from tinyconv.device_estimate import COSTS_FILE, fit_costs, predict
from tinyconv.layer_info import input_shape
from tinyconv.mcu.frontier import architecture_key, report_model

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "results/mcu/shipped"


def architectures() -> dict[str, str]:
    """One model per architecture: a model file under results/, else a ready recipe.

    Returns:
        Report name -> model reference (``results/...model.pt`` or ``recipe:NAME``).
    """
    from tinyconv.recipes import RECIPES, get_recipe

    found: dict[str, str] = {}
    for path in sorted((REPO / "results").rglob("*.model.pt")):
        found.setdefault(architecture_key(tinyconv.load(path)), str(path.relative_to(REPO)))
    for name in sorted(RECIPES):
        found.setdefault(architecture_key(get_recipe(name).build_model(seed=0)), f"recipe:{name}")
    return {
        ref.removeprefix("results/").removesuffix(".model.pt").replace(":", "__"): ref
        for ref in found.values()
    }


def _briefly_trained(recipe: str, work: Path, data_dir: str | None) -> Path:
    command = [
        sys.executable,
        "-m",
        "tinyconv",
        "study",
        recipe,
        "--epochs",
        "1",
        "--train-subset",
        "2000",
        "--seeds",
        "1",
        "--threads",
        "1",
        "--out",
        str(work),
    ]
    if data_dir:
        command += ["--data-dir", data_dir]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    (model,) = work.glob("*/seed0.model.pt")
    return model


def run(cores: list[str], images: int, data_dir: str | None) -> None:
    from tinyconv.mcu import run_on_mcu

    SHIPPED.mkdir(parents=True, exist_ok=True)
    for name, reference in architectures().items():
        for core in cores:
            kept = SHIPPED / f"{name.replace('/', '__')}.{core}.json"
            if kept.exists():
                continue
            with tempfile.TemporaryDirectory() as work:
                path = REPO / reference
                if reference.startswith("recipe:"):
                    path = _briefly_trained(reference.removeprefix("recipe:"), Path(work), data_dir)
                report = run_on_mcu(
                    path, Path(work) / "out", cpu=core, images=images, data_root=data_dir
                )
                data = report.to_dict()
                data["model"] = reference + (
                    " (trained 1 epoch on 2,000 images)" if reference.startswith("recipe:") else ""
                )
                tmp = kept.with_suffix(".partial")
                tmp.write_text(json.dumps(data, indent=2) + "\n")
                tmp.replace(kept)
            print(
                f"{name} {core}: {data['instructions']['mean']:,.0f} instructions", file=sys.stderr
            )


def _observation(report: dict[str, Any]) -> tuple[Any, tuple[Any, int, dict[str, Any]]]:
    """The report's model and what fit_costs takes of it: operators, peak, measured."""
    model = report_model(report["model"], REPO)
    ops = deployed_ops(model)
    got = [(op.kind, op.macs) for op in ops]
    want = [(op["operator"], op["macs"]) for op in report["instructions"]["per_operator"]]
    if got != want:
        raise SystemExit(f"{report['model']}: deployed_ops {got} but the firmware ran {want}")
    measured = {
        "flash_model": report["flash"]["model"],
        "arena": report["ram"]["arena"],
        "instructions": [op["instructions"] for op in report["instructions"]["per_operator"]],
    }
    return model, (ops, peak_activation_elements(model, input_shape(model)), measured)


def fit(core: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    reports = sorted(SHIPPED.glob(f"*.{core}.json"))
    observations = {
        p.name.removesuffix(f".{core}.json"): _observation(json.loads(p.read_text()))
        for p in reports
    }
    costs = fit_costs([observed for _, observed in observations.values()])
    rows = []
    for name, (model, (ops, peak, measured)) in observations.items():
        others = [observed for other, (_, observed) in observations.items() if other != name]
        guess = predict(fit_costs(others), ops, peak)  # what estimate_device would say
        estimate = {
            "flash": guess["flash_bytes"],
            "arena": guess["arena_bytes"],
            "instructions": guess["instructions"],
        }
        real = {
            "flash": measured["flash_model"],
            "arena": measured["arena"],
            "instructions": sum(measured["instructions"]),
        }
        rows.append(
            {
                "model": name,
                "params": tinyconv.count_parameters(model),
                **{f"{k}_measured": real[k] for k in real},
                **{f"{k}_estimated": estimate[k] for k in real},
                **{f"{k}_error": estimate[k] / real[k] - 1 for k in real},
            }
        )
    costs["errors"] = {
        k: max(abs(r[f"{k}_error"]) for r in rows) for k in ("flash", "arena", "instructions")
    }
    costs["mean_errors"] = {
        k: statistics.fmean(abs(r[f"{k}_error"]) for r in rows) for k in costs["errors"]
    }
    costs["models"] = len(rows)
    return costs, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the missing reports first")
    parser.add_argument("--cores", nargs="+", default=["cortex-m4"])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    if args.run:
        run(args.cores, args.images, args.data_dir)
    cores, table = {}, {}
    for core in args.cores:
        cores[core], table[core] = fit(core)
        errors = cores[core]["errors"]
        print(
            f"{core}: {cores[core]['models']} architectures; largest left-out error: "
            + ", ".join(f"{k} {100 * v:.1f} %" for k, v in errors.items())
        )
        for row in table[core]:
            print(
                f"  {row['model']:<45} "
                + "  ".join(
                    f"{k} {row[f'{k}_measured']:>10,.0f} est {row[f'{k}_estimated']:>10,} "
                    f"({100 * row[f'{k}_error']:+.1f} %)"
                    for k in ("flash", "arena", "instructions")
                )
            )
    command = ("python benchmarks/mcu_estimates.py " + " ".join(sys.argv[1:])).strip()
    out = REPO / "results/mcu/estimates.json"
    for path, fitted in ((COSTS_FILE, cores), (out, table)):  # other cores' entries stay
        kept = json.loads(path.read_text())["cores"] if path.is_file() else {}
        path.write_text(
            json.dumps({"command": command, "cores": {**kept, **fitted}}, indent=1) + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
