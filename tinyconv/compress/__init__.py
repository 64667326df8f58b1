"""Compression: structured pruning to a budget and knowledge distillation (extra ``compress``).

- :func:`prune_to_budget` removes whole channels from a trained model, on Torch-Pruning's
  dependency graph, until it fits a parameter budget; :func:`rebuild` turns the narrowed
  model into an ordinary :class:`~tinyconv.TinyNet` whose specs describe its weights.
- :func:`prune_model_file` is the whole pruning run behind ``tinyconv prune``: prune a
  model file, fine-tune it with its recipe (checkpointed, resumable), score it on a
  validation split carved from the training set, write the model file and a report.
- :class:`DistillationSpec` names a teacher model file, a weight and a temperature;
  :func:`distillation_callback` loads and checks the teacher and returns a
  :class:`Distiller`, a training-engine callback that adds the softened teacher's KL
  divergence to the loss.

Torch-Pruning is imported only when pruning runs, so this package imports without it.
"""

from tinyconv.compress.distill import (
    DistillationSpec,
    Distiller,
    distillation_callback,
    distillation_loss,
)
from tinyconv.compress.errors import PruneError, TeacherError
from tinyconv.compress.prune import CRITERION, PruneResult, prune_to_budget
from tinyconv.compress.pruning_run import PruneReport, prune_model_file
from tinyconv.compress.rebuild import block_widths, rebuild, specs_from_modules

__all__ = [
    "CRITERION",
    "DistillationSpec",
    "Distiller",
    "PruneError",
    "PruneReport",
    "PruneResult",
    "TeacherError",
    "block_widths",
    "distillation_callback",
    "distillation_loss",
    "prune_model_file",
    "prune_to_budget",
    "rebuild",
    "specs_from_modules",
]
