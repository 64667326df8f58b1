"""tinyconv: compact CNN building blocks for PyTorch with exact parameter budgets.

Declare a model as a sequence of block specs, :func:`build` it, read its exact
per-layer cost with :func:`summary`, and enforce a limit with :func:`check_budget`.
``import tinyconv`` loads the core only (blocks, specs, build, budgets, summaries,
model files); the rest loads on first use: ``tinyconv.data`` (datasets, splits,
augmentation, ``TensorLoader``), ``tinyconv.train`` (the training engine: ``fit``),
``tinyconv.Recipe`` and ``tinyconv.train_recipe`` (an experiment as data, and training it),
``tinyconv.study`` (multi-seed studies), ``tinyconv.recipes`` (ready recipes), and the
extras ``tinyconv.export``, ``tinyconv.plots`` and ``tinyconv.search``.

Example:
    >>> import tinyconv as tc
    >>> model = tc.build([
    ...     tc.ConvSpec(out_channels=8),
    ...     tc.ConvSpec(out_channels=16),
    ...     tc.SESpec(rd_channels=4),
    ...     tc.TransitionSpec(out_channels=8),
    ...     tc.ConvSpec(out_channels=16),
    ...     tc.GAPHeadSpec(num_classes=10),
    ... ])
    >>> tc.check_budget(model, max_params=8000)
    2892
"""

import importlib
from typing import Any

from tinyconv._version import __version__ as __version__
from tinyconv.activations import ACTIVATIONS, resolve_activation
from tinyconv.blocks import (
    ConvBlock,
    ConvHead,
    DepthwiseSeparable,
    GAPHead,
    SqueezeExcite,
    Transition,
)
from tinyconv.errors import (
    ModelFileError,
    ModelGraphError,
    ModelInputError,
    OutputExistsError,
    OutputPathError,
    ReportFileError,
    SpecError,
    TinyconvError,
)
from tinyconv.eval_mode import eval_mode
from tinyconv.model import TinyNet, build, build_from_architecture
from tinyconv.model_file import load, save
from tinyconv.parameters import (
    BudgetExceededError,
    check_budget,
    count_parameters,
    layer_parameters,
)
from tinyconv.receptive_field import ReceptiveField, receptive_fields
from tinyconv.specs import (
    BlockSpec,
    ConvHeadSpec,
    ConvSpec,
    DepthwiseSeparableSpec,
    GAPHeadSpec,
    SESpec,
    TransitionSpec,
    spec_from_dict,
    specs_from_list,
    specs_to_list,
)
from tinyconv.summary import ModelSummary, SummaryRow, summary

_SUBPACKAGES = frozenset(
    {"data", "train", "study", "recipes", "export", "mcu", "plots", "search", "compress", "cli"}
)
_LAZY = {
    "Recipe": "tinyconv.recipe",
    "train_recipe": "tinyconv.experiment",
    "fine_tune": "tinyconv.experiment",
    "TrainedSeed": "tinyconv.experiment",
    "DeployedOp": "tinyconv.deployed_graph",
    "deployed_ops": "tinyconv.deployed_graph",
    "DeviceEstimate": "tinyconv.device_estimate",
    "estimate_device": "tinyconv.device_estimate",
}


def __getattr__(name: str) -> Any:
    """Load a subpackage, or a name of a module above the core, on first use."""
    if name in _SUBPACKAGES:
        return importlib.import_module(f"tinyconv.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tinyconv' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBPACKAGES, *_LAZY])


__all__ = [
    "ACTIVATIONS",
    "BlockSpec",
    "BudgetExceededError",
    "ConvBlock",
    "ConvHead",
    "ConvHeadSpec",
    "ConvSpec",
    "DeployedOp",
    "DepthwiseSeparable",
    "DepthwiseSeparableSpec",
    "DeviceEstimate",
    "GAPHead",
    "GAPHeadSpec",
    "ModelFileError",
    "ModelGraphError",
    "ModelInputError",
    "ModelSummary",
    "OutputExistsError",
    "OutputPathError",
    "ReceptiveField",
    "Recipe",
    "ReportFileError",
    "SESpec",
    "SpecError",
    "SqueezeExcite",
    "SummaryRow",
    "TinyNet",
    "TinyconvError",
    "TrainedSeed",
    "Transition",
    "TransitionSpec",
    "build",
    "build_from_architecture",
    "check_budget",
    "count_parameters",
    "deployed_ops",
    "estimate_device",
    "eval_mode",
    "fine_tune",
    "layer_parameters",
    "load",
    "receptive_fields",
    "resolve_activation",
    "save",
    "spec_from_dict",
    "specs_from_list",
    "specs_to_list",
    "summary",
    "train_recipe",
]
