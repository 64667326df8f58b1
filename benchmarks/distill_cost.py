"""What a teacher costs per training step: V5 trained with and without a distillation term.

The same V5 student (6,364 parameters), seed, data and epochs, once plain and once with a
:class:`~tinyconv.compress.Distiller` whose teacher is the ``mnist_teacher`` architecture
(46,476 parameters; freshly built and put in eval mode: what a forward pass costs does not
depend on the weights). Prints and saves the training images per second of every epoch
(the engine's own ``images_per_sec``, the teacher's forward pass included). It measures
cost only; it says nothing about accuracy (no trained teacher is used).

Usage::

    python benchmarks/distill_cost.py --images 10000 --epochs 2 --threads 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
from pathlib import Path

import torch

from tinyconv.atomic import atomic_write
from tinyconv.compress import Distiller
from tinyconv.data import TensorLoader, load_dataset
from tinyconv.recipes import RECIPES
from tinyconv.train import fit


def images_per_second(teacher: bool, images: int, epochs: int, root: str | None) -> list[float]:
    """Train V5 on ``images`` training images for ``epochs``; images/s of each epoch."""
    recipe = RECIPES["mnist_v5"]
    data = load_dataset("mnist", root, train=True).subset(range(images))
    config = dataclasses.replace(recipe.train, epochs=epochs, device="cpu", progress=False)
    loader = TensorLoader(data, config.batch_size, shuffle=True, seed=0,
                          augment=recipe.augmentation())  # fmt: skip
    callbacks = []
    if teacher:
        model = RECIPES["mnist_teacher"].build_model(seed=0).eval()
        callbacks.append(Distiller(model, weight=1.0, temperature=4.0))
    history = fit(recipe.build_model(seed=0), loader, config, callbacks=callbacks)
    return [record.images_per_sec for record in history]


def main() -> None:
    """Run both, print and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="results/compress/distill_cost.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    plain = images_per_second(False, args.images, args.epochs, args.data_dir)
    taught = images_per_second(True, args.images, args.epochs, args.data_dir)
    result = {
        "command": f"python benchmarks/distill_cost.py --images {args.images} "
        f"--epochs {args.epochs} --threads {args.threads}",
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "threads": args.threads,
        "student": "mnist_v5 (6,364 params)",
        "teacher": "mnist_teacher architecture (46,476 params), untrained, eval mode",
        "images_per_sec_plain": plain,
        "images_per_sec_with_teacher": taught,
        "ratio_last_epoch": taught[-1] / plain[-1],
    }
    text = json.dumps(result, indent=1) + "\n"
    atomic_write(Path(args.out), lambda handle: handle.write(text.encode()))
    print(f"images/s plain {[round(v) for v in plain]}, with teacher {[round(v) for v in taught]}"
          f" ({result['ratio_last_epoch']:.2f}x in the last epoch)")  # fmt: skip


if __name__ == "__main__":
    main()
