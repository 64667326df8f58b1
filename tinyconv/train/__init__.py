"""Generic training for tinyconv classifiers: config, loop, evaluation and checkpoints.

One concept per module: ``config`` (``TrainConfig``), ``device``, ``seed``, ``optim``
(optimizer and scheduler), ``history``, ``checkpoint``, ``callbacks``, ``evaluate`` and
``trainer`` (``fit``). Typical use::

    history = fit(model, train_loader, TrainConfig(epochs=15), eval_loader=val_loader,
                  callbacks=[EarlyStopping("val_loss", patience=3)], checkpoint_path="last.pt")
"""

from tinyconv.atomic import atomic_write
from tinyconv.train.callbacks import Batch, Callback, EarlyStopping, TrainState
from tinyconv.train.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointExistsError,
    check_resumable,
    load_checkpoint,
    save_checkpoint,
)
from tinyconv.train.config import TrainConfig
from tinyconv.train.device import resolve_device
from tinyconv.train.engine import NonFiniteLossError
from tinyconv.train.evaluate import EvalResult, evaluate, evaluate_stacked, predict
from tinyconv.train.hash_dropout import HashDropout
from tinyconv.train.history import EpochRecord, History
from tinyconv.train.optim import build_optimizer, build_scheduler
from tinyconv.train.seed import rng_state, seed_everything, set_rng_state
from tinyconv.train.stacked import fit_stacked
from tinyconv.train.stacked_dropout import DropoutStreams, StackedDropout
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
    "DropoutStreams",
    "EarlyStopping",
    "EpochRecord",
    "EvalResult",
    "HashDropout",
    "History",
    "NonFiniteLossError",
    "StackedDropout",
    "StackedNet",
    "TrainConfig",
    "TrainState",
    "atomic_write",
    "build_optimizer",
    "build_scheduler",
    "check_resumable",
    "evaluate",
    "evaluate_stacked",
    "fit",
    "fit_stacked",
    "load_checkpoint",
    "predict",
    "resolve_device",
    "rng_state",
    "save_checkpoint",
    "seed_everything",
    "set_rng_state",
    "stack_models",
    "unstack_models",
]
