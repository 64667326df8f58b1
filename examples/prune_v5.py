"""Prune committed V5 models to a budget, against the same widths trained from scratch.

For each seed s and budget N: prune ``results/cpu/mnist_v5/seed{s}.model.pt`` (or, with
``--recipe fashion_v5``, ``results/fashion/fashion_v5/seed{s}.model.pt``) to at most N
parameters and fine-tune it for E epochs with its own recipe (``tinyconv prune``'s library
function: validation split of 5,000 training images, fine-tuning on the other 55,000); train
the pruned widths from scratch with the same recipe, data, seed and epochs; score each once
on the 10,000 test images after its final epoch; export both with int8 and record the
export path's own fp32 and int8 test accuracy. One JSON per (seed, budget) under
``--out`` (default ``results/compress``); a finished one is skipped, so the script can be
run again to continue.

The source models were trained on all 60,000 training images, so the validation split
was seen by the source model (its "source" and "pruned" validation figures are optimistic);
the fine-tuned and from-scratch models never train on it, and no choice here reads test.

Usage::

    python examples/prune_v5.py --seeds 0 --budgets 4000 --epochs 5 --threads 1
    python examples/prune_v5.py --recipe fashion_v5 --seeds 0 --budgets 4000 --epochs 5 \
        --scratch-epochs 20 --threads 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import time
from pathlib import Path

import torch

import tinyconv as tc
from tinyconv.atomic import atomic_write
from tinyconv.compress import prune_model_file
from tinyconv.compress.pruning_run import MODEL_FILE
from tinyconv.data import TensorLoader, load_dataset
from tinyconv.data.split import ValidationSplit
from tinyconv.recipes import RECIPES
from tinyconv.train import evaluate

SOURCES = {
    "mnist_v5": "results/cpu/mnist_v5/seed{seed}.model.pt",
    "fashion_v5": "results/fashion/fashion_v5/seed{seed}.model.pt",
}
"""The committed model files each source recipe's seeds are pruned from."""
PREFIXES = {"mnist_v5": "v5", "fashion_v5": "fashion_v5"}
"""The results files' name prefix per source recipe (``v5_seed0_max4000_e5.json``)."""
VAL_SIZE, SPLIT_SEED = 5000, 0


def score_test(model: tc.TinyNet, test_set: object) -> float:
    """Test accuracy of ``model`` on the CPU (called once per model, after its final epoch)."""
    loader = TensorLoader(test_set, 1000)  # type: ignore[arg-type]
    return evaluate(model.cpu().eval(), loader).accuracy


def export_accuracies(model_file: Path, out: Path, root: str | None) -> dict[str, object]:
    """Export ``model_file`` with int8; the export path's own test accuracies per stage.

    A model already exported into ``out`` (by an earlier run of this script) is not exported
    again: its report is read.
    """
    from tinyconv.export import export_model
    from tinyconv.export.onnx_report import load_report

    existing = out / f"{model_file.name.split('.')[0]}.export.json"
    if existing.is_file():
        return dict(load_report(existing)["accuracy"])
    report = export_model(model_file, out, int8=True, data_root=root, latency_runs=20)
    return dict(report.accuracy)


def scratch(source_recipe: str, specs: tuple, seed: int, epochs: int, budget: int,
            root: str | None, out: Path, stem: str):  # fmt: skip
    """Train ``specs`` from scratch with the source recipe for ``epochs`` epochs; save it."""
    recipe = RECIPES[source_recipe].with_epochs(epochs)
    recipe = dataclasses.replace(recipe, name=f"{source_recipe}_pruned{budget}_scratch",
                                 specs=specs, max_params=budget)  # fmt: skip
    full = load_dataset(recipe.dataset, root, train=True)
    train_set, val_set = ValidationSplit(VAL_SIZE, SPLIT_SEED).carve(full)
    (run,) = tc.train_recipe(recipe, [seed], train_set, val_set, eval_name="val", device="cpu",
                             progress=False, checkpoint_path=out / f"{stem}.ckpt.pt")  # fmt: skip
    model, history = run.model, run.history
    model.metadata.update(seed=seed, epochs=epochs, val_acc=history.final.eval_acc)
    path = out / f"{stem}.model.pt"
    tc.save(model.cpu().eval(), path, overwrite=True)
    (out / f"{stem}.ckpt.pt").unlink(missing_ok=True)
    return model, history, path


def main() -> None:
    """Run every (seed, budget) not yet recorded."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=sorted(SOURCES), default="mnist_v5",
                        help="the source models' recipe (default mnist_v5)")  # fmt: skip
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[4000])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--scratch-epochs",
        type=int,
        default=None,
        help="epochs of the from-scratch run (default: --epochs; e.g. 20 = V5's 15 + 5)",
    )
    parser.add_argument(
        "--max-pruning-ratio",
        type=float,
        default=1.0,
        help="the largest fraction of each layer's channels that may go",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="results/compress")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    source_file = SOURCES[args.recipe]
    test_set = load_dataset(RECIPES[args.recipe].dataset, args.data_dir, train=False)
    options = "" if args.recipe == "mnist_v5" else f"--recipe {args.recipe} "
    if args.max_pruning_ratio != 1:
        options += f"--max-pruning-ratio {args.max_pruning_ratio:g} "
    for budget in args.budgets:
        for seed in args.seeds:
            name = f"{PREFIXES[args.recipe]}_seed{seed}_max{budget}_e{args.epochs}"
            scratch_epochs = args.scratch_epochs or args.epochs
            stem = "scratch" if scratch_epochs == args.epochs else f"scratch_e{scratch_epochs}"
            label = name if scratch_epochs == args.epochs else f"{name}_{stem}"
            result_file = Path(args.out) / f"{label}.json"
            if result_file.exists():
                print(f"{label}: done already ({result_file})")
                continue
            work = Path(args.out) / name
            started = time.perf_counter()
            if not (work / "pruned" / MODEL_FILE).exists():
                prune_model_file(source_file.format(seed=seed), work / "pruned", max_params=budget,
                                 max_pruning_ratio=args.max_pruning_ratio,
                                 epochs=args.epochs, data_root=args.data_dir, val_size=VAL_SIZE,
                                 split_seed=SPLIT_SEED, seed=seed, device="cpu",
                                 progress=False)  # fmt: skip
            pruned_seconds = time.perf_counter() - started
            report = json.loads((work / "pruned" / "report.json").read_text())
            pruned = tc.load(work / "pruned" / MODEL_FILE)
            started = time.perf_counter()
            fresh, history, fresh_file = scratch(args.recipe, pruned.specs, seed, scratch_epochs,
                                                 budget, args.data_dir, work, stem)  # fmt: skip
            scratch_seconds = time.perf_counter() - started
            source = tc.load(source_file.format(seed=seed))
            result = {
                "command": f"python examples/prune_v5.py {options}--seeds {seed} "
                f"--budgets {budget} "
                f"--epochs {args.epochs} --scratch-epochs {scratch_epochs} "
                f"--threads {args.threads}",
                "seed": seed,
                "budget": budget,
                "epochs": args.epochs,
                "torch": torch.__version__,
                "cpu": platform.processor() or platform.machine(),
                "threads": args.threads,
                "source": {
                    "file": source_file.format(seed=seed),
                    "params": tc.count_parameters(source),
                    "test_acc": score_test(source, test_set),
                },
                "pruned_finetuned": {
                    "params": tc.count_parameters(pruned),
                    "widths": report["pruning"]["widths_after"],
                    "val_acc_source": report["val_acc_source"],
                    "val_acc_pruned": report["val_acc_pruned"],
                    "val_acc_final": report["val_acc_finetuned"],
                    "test_acc_final": score_test(pruned, test_set),
                    "export": export_accuracies(
                        work / "pruned" / MODEL_FILE, work / "pruned_export", args.data_dir
                    ),
                    "wall_seconds": pruned_seconds,
                },
                "scratch": {
                    "epochs": scratch_epochs,
                    "params": tc.count_parameters(fresh),
                    "val_acc_final": history.final.eval_acc,
                    "test_acc_final": score_test(fresh, test_set),
                    "export": export_accuracies(fresh_file, work / f"{stem}_export", args.data_dir),
                    "wall_seconds": scratch_seconds,
                },
                "prune_report": report,
            }
            text = json.dumps(result, indent=1) + "\n"
            atomic_write(result_file, lambda handle, text=text: handle.write(text.encode()))
            p, s = result["pruned_finetuned"], result["scratch"]
            print(f"{label}: pruned+fine-tuned {100 * p['test_acc_final']:.2f} %, from scratch "
                  f"{100 * s['test_acc_final']:.2f} % test ({p['params']:,} params)")  # fmt: skip


if __name__ == "__main__":
    main()
