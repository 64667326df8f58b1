"""Training tinyconv classifiers: the config, one training engine, evaluation and checkpoints.

One concept per module: ``config`` (``TrainConfig``), ``engine`` (the one epoch/step loop),
``steps`` (its strategies: one model, or K stacked seeds), ``trainer`` (``fit``),
``stacked`` (``fit_stacked``, with ``stacked_model`` and ``stacked_dropout``),
``callbacks`` (the loop's events), ``evaluate``, ``history``, ``checkpoint``, ``optim``,
``seed``, ``device``, ``compiled`` and ``progress``. This namespace holds what a user
calls; the modules hold the rest. Typical use::

    history = fit(model, train_loader, TrainConfig(epochs=15), eval_loader=val_loader,
                  callbacks=[EarlyStopping("val_loss", patience=3)], checkpoint_path="last.pt")
"""

from tinyconv.train.callbacks import Batch, Callback, EarlyStopping, TrainState
from tinyconv.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointExistsError,
    load_checkpoint,
    save_checkpoint,
)
from tinyconv.train.config import TrainConfig
from tinyconv.train.device import DeviceUnavailableError, resolve_device
from tinyconv.train.engine import NonFiniteLossError
from tinyconv.train.evaluate import EvalResult, evaluate, predict
from tinyconv.train.history import EpochRecord, History
from tinyconv.train.seed import seed_everything
from tinyconv.train.stacked import fit_stacked
from tinyconv.train.stacked_model import StackedNet, stack_models, unstack_models
from tinyconv.train.steps import BatchLoader
from tinyconv.train.trainer import fit

__all__ = [
    "Batch",
    "BatchLoader",
    "Callback",
    "Checkpoint",
    "CheckpointError",
    "CheckpointExistsError",
    "DeviceUnavailableError",
    "EarlyStopping",
    "EpochRecord",
    "EvalResult",
    "History",
    "NonFiniteLossError",
    "StackedNet",
    "TrainConfig",
    "TrainState",
    "evaluate",
    "fit",
    "fit_stacked",
    "load_checkpoint",
    "predict",
    "resolve_device",
    "save_checkpoint",
    "seed_everything",
    "stack_models",
    "unstack_models",
]
