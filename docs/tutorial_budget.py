"""Tutorial: build a tiny MNIST net under an 8,000-parameter budget, then train it.

The "Build a tiny net under a budget" page of the docs shows this file piece by
piece, and ``tests/test_docs.py`` runs it, so the code on the page always works.

Run it as a script (add ``--train-images 5000 --epochs 1`` for a quick try)::

    python docs/tutorial_budget.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import torch

import tinyconv as tc
from tinyconv.data import TensorLoader, train_val_split
from tinyconv.data.augment import RandomRotation
from tinyconv.data.mnist import load_mnist
from tinyconv.train import History, TrainConfig, evaluate, fit, resolve_device

# [step-specs]
BUDGET = 8_000  # parameters, BatchNorm affine weights included

SPECS = (
    tc.ConvSpec(out_channels=8, dropout=0.05),  # 28x28 -> 26x26, sees 3x3 pixels
    tc.ConvSpec(out_channels=12, dropout=0.05),  # -> 24x24, receptive field 5
    tc.TransitionSpec(out_channels=8),  # max-pool + 1x1 squeeze -> 12x12, RF 6
    tc.ConvSpec(out_channels=12, dropout=0.05),  # -> 10x10, RF 10
    tc.ConvSpec(out_channels=16, dropout=0.05),  # -> 8x8, RF 14
    tc.ConvSpec(out_channels=16, dropout=0.05),  # -> 6x6, RF 18
    tc.SESpec(rd_channels=4),  # squeeze-and-excitation gate on 16 channels
    tc.GAPHeadSpec(num_classes=10),  # global average pool + 1x1 map to 10 logits
)
# [/step-specs]


# [step-build]
def build_model(seed: int = 0) -> tc.TinyNet:
    """Build the net from ``SPECS`` and make sure it fits the budget."""
    # seed= fixes the initial weights: the same script gives the same numbers every run
    model = tc.build(SPECS, in_channels=1, input_size=(28, 28), num_classes=10, seed=seed)
    with tc.eval_mode(model):  # eval + no_grad: the check leaves BatchNorm statistics alone
        logits = model(torch.zeros(2, 1, 28, 28))  # a batch of two blank images
    assert logits.shape == (2, 10)  # one logit per class for each image
    tc.check_budget(model, max_params=BUDGET)  # returns the count, raises if over
    return model


# [/step-build]


# [step-budget-error]
def budget_error_message(model: torch.nn.Module, tight_budget: int = 5_000) -> str:
    """Return what ``check_budget`` says about a budget the model does not meet."""
    try:
        tc.check_budget(model, max_params=tight_budget)
    except tc.BudgetExceededError as error:
        return str(error)
    return f"the model fits in {tight_budget:,} parameters"


# [/step-budget-error]


# [step-train]
def train(
    model: torch.nn.Module,
    data_dir: str | None = None,
    *,
    epochs: int = 15,
    train_images: int | None = None,
    device: str = "auto",
) -> History:
    """Train on MNIST minus 5,000 held-out validation images, scored after every epoch."""
    full_train = load_mnist(data_dir, train=True)  # uint8 [60000, 1, 28, 28], MD5-checked
    train_set, val_set = train_val_split(full_train, val_size=5_000, seed=0)
    if train_images is not None:  # a quick run on the first images only
        train_set = train_set.subset(range(train_images))
    config = TrainConfig(
        epochs=epochs,
        batch_size=128,
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        scheduler="step",  # StepLR: lr x 0.18 every 9 epochs
        step_size=9,
        gamma=0.18,
        device=device,
        progress=False,
    )
    train_loader = TensorLoader(
        train_set,
        config.batch_size,
        shuffle=True,
        seed=config.seed,
        device=resolve_device(device),
        augment=RandomRotation(10, fill=1 / 255),  # ±10°, corners almost black
    )
    val_loader = TensorLoader(val_set, 1_000, device=train_loader.device)
    return fit(model, train_loader, config, eval_loader=val_loader, eval_name="val")


# [/step-train]


# [step-test]
def score_on_test(model: torch.nn.Module, data_dir: str | None = None) -> float:
    """Score the finished model once on the 10,000 test images."""
    test_set = load_mnist(data_dir, train=False)
    device = next(model.parameters()).device
    return evaluate(model, TensorLoader(test_set, 1_000, device=device)).accuracy


# [/step-test]


def main(argv: Sequence[str] | None = None) -> int:
    """Build, summarise, check and train the tutorial's net; print the scores."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw/...")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--train-images", type=int, default=None, help="use only the first N")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    args = parser.parse_args(argv)

    model = build_model(args.seed)
    print(tc.summary(model))
    print(budget_error_message(model))
    history = train(
        model,
        args.data_dir,
        epochs=args.epochs,
        train_images=args.train_images,
        device=args.device,
    )
    final = history.final
    print(f"epoch {final.epoch}: val accuracy {final.eval_acc:.2%}")
    print(f"test accuracy, measured once: {score_on_test(model, args.data_dir):.2%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
