"""tinyconv: compact CNN building blocks for PyTorch with exact parameter budgets.

Declare a model as a sequence of block specs, :func:`build` it, read its exact
per-layer cost with :func:`summary`, and enforce a limit with :func:`check_budget`.
The subpackages come with ``import tinyconv``: :mod:`tinyconv.data` (offline
datasets, splits, augmentation, ``TensorLoader``), :mod:`tinyconv.train`
(``TrainConfig``, ``fit``, ``evaluate``) and :mod:`tinyconv.study` (multi-seed
reproductions).

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

from tinyconv.activations import ACTIVATIONS, resolve_activation
from tinyconv.blocks import ConvBlock, ConvHead, GAPHead, SqueezeExcite, Transition
from tinyconv.errors import (
    ModelFileError,
    ModelInputError,
    OutputExistsError,
    OutputPathError,
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
    GAPHeadSpec,
    SESpec,
    TransitionSpec,
    spec_from_dict,
    specs_from_list,
    specs_to_list,
)
from tinyconv.summary import ModelSummary, SummaryRow, summary

from tinyconv import data as data  # isort: skip  (subpackages load after the core they use)
from tinyconv import study as study  # isort: skip
from tinyconv import train as train  # isort: skip

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "BlockSpec",
    "BudgetExceededError",
    "ConvBlock",
    "ConvHead",
    "ConvHeadSpec",
    "ConvSpec",
    "GAPHead",
    "GAPHeadSpec",
    "ModelFileError",
    "ModelInputError",
    "ModelSummary",
    "OutputExistsError",
    "OutputPathError",
    "ReceptiveField",
    "SESpec",
    "SpecError",
    "SqueezeExcite",
    "SummaryRow",
    "TinyNet",
    "TinyconvError",
    "Transition",
    "TransitionSpec",
    "build",
    "build_from_architecture",
    "check_budget",
    "count_parameters",
    "eval_mode",
    "layer_parameters",
    "load",
    "receptive_fields",
    "resolve_activation",
    "save",
    "spec_from_dict",
    "specs_from_list",
    "specs_to_list",
    "summary",
]
