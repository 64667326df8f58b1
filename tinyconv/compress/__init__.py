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

Every name loads its module on first use, so importing this package pulls in neither the
training code nor Torch-Pruning; Torch-Pruning is imported only when pruning runs.
:class:`DistillationSpec` lives beside the recipe that holds it
(:mod:`tinyconv.distillation_spec`), so a recipe never imports this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinyconv.compress.distill import Distiller, distillation_callback, distillation_loss
    from tinyconv.compress.errors import PruneError, TeacherError
    from tinyconv.compress.prune import PruneResult, prune_to_budget
    from tinyconv.compress.pruning_run import PruneReport, prune_model_file
    from tinyconv.compress.real_widths import block_widths, rebuild, specs_from_modules
    from tinyconv.distillation_spec import DistillationSpec

_HOMES = {
    "DistillationSpec": "tinyconv.distillation_spec",
    "Distiller": "distill",
    "PruneError": "errors",
    "PruneReport": "pruning_run",
    "PruneResult": "prune",
    "TeacherError": "errors",
    "block_widths": "real_widths",
    "distillation_callback": "distill",
    "distillation_loss": "distill",
    "prune_model_file": "pruning_run",
    "prune_to_budget": "prune",
    "rebuild": "real_widths",
    "specs_from_modules": "real_widths",
}

__all__ = [
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tinyconv.compress' has no attribute {name!r}")
    module = home if home.startswith("tinyconv.") else f"tinyconv.compress.{home}"
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
