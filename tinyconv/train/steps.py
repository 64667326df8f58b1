"""Step strategies: what differs between training one model and K stacked seeds.

The engine (:func:`~tinyconv.train.engine.run_training`) owns the loop; a strategy answers
its questions: which module the optimizer trains, how the loaders' batches become one
input, each trained model's loss and hits, how gradients are clipped, how a model is
scored, and what a resume needs beyond the module's weights.

- :class:`SingleModelStep`: one model, one loader (``fit``).
- :class:`StackedSeedsStep`: K TinyNets of the same specs trained as one
  :class:`~tinyconv.train.StackedNet`, each seed on its own loader; the loss is the sum of
  the K per-seed cross-entropies, so each seed's gradient is exactly its own
  (``fit_stacked``).

The module is over 300 lines because the protocol and its two implementations stay
together: each implementation answers the protocol's questions in the same order, so the
two can be read side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from einops import reduce
from torch import Tensor, nn

from tinyconv.model import TinyNet
from tinyconv.train.config import TrainConfig
from tinyconv.train.evaluate import EvalResult, evaluate, evaluate_stacked
from tinyconv.train.history import History
from tinyconv.train.stacked_model import StackedNet, stack_models, unstack_models


class BatchLoader(Protocol):
    """What the engine needs of a training loader: ``(x, y)`` batches and a length.

    ``tinyconv.data.TensorLoader`` and ``torch.utils.data.DataLoader`` both qualify. If the
    loader also has ``set_epoch(epoch)``, it is called before each epoch, so a loader that
    derives its order from the epoch replays the same batches after a resume.

    Example:
        >>> from tinyconv.train import TrainConfig, fit
        >>> class OneBatch:  # any object with __iter__ and __len__ will do
        ...     batch_size = 4
        ...     def __iter__(self):
        ...         return iter([(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]))])
        ...     def __len__(self):
        ...         return 1
        >>> config = TrainConfig(epochs=2, batch_size=4, device="cpu", progress=False)
        >>> len(fit(nn.Linear(3, 2), OneBatch(), config))
        2
    """

    def __iter__(self) -> Any: ...

    def __len__(self) -> int: ...


class StepStrategy(Protocol):
    """The questions the training engine asks of the thing it trains.

    Attributes:
        loaders: The training loaders, iterated together (one per trained model).
        members: How many models are trained (histories returned).
        model_for_callbacks: The model callbacks see, or ``None`` where callbacks do not
            apply (stacked seeds).
    """

    loaders: Sequence[BatchLoader]
    members: int
    model_for_callbacks: nn.Module | None

    def steps_per_epoch(self, config: TrainConfig) -> int:
        """Batches per epoch, after checking the loaders fit ``config``."""
        ...

    def check_labels(self, eval_loader: object) -> None:
        """Refuse labels outside the model's classes before training."""
        ...

    def prepare(self, device: torch.device) -> nn.Module:
        """Put the trained module on ``device`` and return it (the optimizer's module)."""
        ...

    def set_epoch(self, epoch: int) -> None:
        """Tell every loader which epoch starts."""
        ...

    def batch(
        self,
        batches: Sequence[tuple[Tensor, Tensor]],
        device: torch.device,
        channels_last: bool,
        epoch: int,
        step: int,
    ) -> tuple[Tensor, Tensor]:
        """Turn one batch per loader into the module's input and labels."""
        ...

    def losses(
        self, logits: Tensor, y: Tensor, label_smoothing: float, epoch: int, step: int
    ) -> Tensor:
        """Each trained model's cross-entropy, shape ``(members,)``."""
        ...

    def hits(self, logits: Tensor, y: Tensor) -> Tensor:
        """Each trained model's correct predictions in the batch, shape ``(members,)``."""
        ...

    def clip_gradients(self, max_norm: float) -> None:
        """Clip each trained model's gradient norm to ``max_norm``."""
        ...

    def evaluate(
        self, forward: nn.Module, loader: Iterable[tuple[Tensor, Tensor]], device: torch.device
    ) -> list[EvalResult]:
        """Score each trained model on ``loader``."""
        ...

    def who(self, index: int) -> str:
        """A prefix naming trained model ``index`` in messages (empty for one model)."""
        ...

    def extra_state(self, histories: list[History]) -> dict[str, Any] | None:
        """What a resume needs besides the module, optimizer, scheduler and global RNG."""
        ...

    def load_extra_state(
        self, history: History, extra: dict[str, Any] | None, device: torch.device
    ) -> list[History]:
        """Restore :meth:`extra_state` and return the histories to continue."""
        ...

    def finish(self) -> None:
        """Hand the trained weights back to the caller's models."""
        ...


def check_loader(loader: Any, config: TrainConfig, name: str = "train_loader") -> int:
    """Return ``len(loader)`` after checking the loader fits the config.

    Args:
        loader: A training loader.
        config: The run's config (its ``batch_size``).
        name: The loader's name in messages.

    Returns:
        Batches per epoch.

    Raises:
        ValueError: For a loader without ``len()``, an empty one, or one whose
            ``batch_size`` differs from ``config.batch_size``.
    """
    try:
        steps = len(loader)
    except TypeError as error:
        raise ValueError(
            f"{name} ({type(loader).__name__}) must define len() = batches per epoch"
        ) from error
    if steps == 0:
        raise ValueError(
            f"{name} is empty (0 batches per epoch): it holds no samples, or fewer than "
            "one batch with drop_last=True; give it data or a smaller batch_size"
        )
    batch_size = getattr(loader, "batch_size", None)
    if isinstance(batch_size, int) and batch_size != config.batch_size:
        raise ValueError(
            f"{name}.batch_size is {batch_size} but config.batch_size is "
            f"{config.batch_size}; build the loader with batch_size=config.batch_size"
        )
    return steps


def check_label_range(classes: object, loader: Any, name: str) -> None:
    """Before training: every label a TensorLoader holds must be one of the model's classes.

    Args:
        classes: The model's number of outputs (anything else skips the check).
        loader: A loader; only one with ``dataset.labels`` (a TensorLoader) is checked.
        name: The loader's name in messages.

    Raises:
        ValueError: If a label is negative or not below ``classes``.
    """
    labels = getattr(getattr(loader, "dataset", None), "labels", None)
    if not isinstance(classes, int) or not isinstance(labels, Tensor) or labels.numel() == 0:
        return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= classes:
        bad = high if high >= classes else low
        raise ValueError(
            f"{name} holds label {bad} but the model has {classes} outputs (classes "
            f"0..{classes - 1}); build the head with num_classes={max(high + 1, classes)} "
            "(the dataset's class count), or remap the labels"
        )


class SingleModelStep:
    """Train one model on one loader: the strategy behind :func:`~tinyconv.train.fit`.

    Args:
        model: A classifier mapping ``x`` to logits; trained in place.
        loader: Its training loader.

    Example:
        >>> step = SingleModelStep(nn.Linear(3, 2), [(torch.randn(4, 3), torch.arange(4) % 2)])
        >>> step.members, step.who(0)
        (1, '')
    """

    members = 1

    def __init__(self, model: nn.Module, loader: BatchLoader) -> None:
        self.model = model
        self.loaders = (loader,)
        self.model_for_callbacks: nn.Module | None = model

    def steps_per_epoch(self, config: TrainConfig) -> int:  # noqa: D102
        return check_loader(self.loaders[0], config)

    def check_labels(self, eval_loader: object) -> None:  # noqa: D102
        classes = getattr(getattr(self.model, "_orig_mod", self.model), "num_classes", None)
        check_label_range(classes, self.loaders[0], "train_loader")
        if eval_loader is not None:
            check_label_range(classes, eval_loader, "eval_loader")

    def prepare(self, device: torch.device) -> nn.Module:  # noqa: D102
        return self.model.to(device)

    def set_epoch(self, epoch: int) -> None:  # noqa: D102
        if hasattr(self.loaders[0], "set_epoch"):
            self.loaders[0].set_epoch(epoch)

    def batch(  # noqa: D102
        self,
        batches: Sequence[tuple[Tensor, Tensor]],
        device: torch.device,
        channels_last: bool,
        epoch: int,
        step: int,
    ) -> tuple[Tensor, Tensor]:
        x, y = batches[0]
        x = x.to(device, non_blocking=True)
        if channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y.to(device, non_blocking=True)

    def losses(  # noqa: D102
        self, logits: Tensor, y: Tensor, label_smoothing: float, epoch: int, step: int
    ) -> Tensor:
        try:
            return F.cross_entropy(logits, y, label_smoothing=label_smoothing).reshape(1)
        except IndexError as error:  # CPU: "Target 9 is out of bounds."
            raise ValueError(
                f"epoch {epoch}, step {step}: the model has {logits.shape[-1]} outputs (classes "
                f"0..{logits.shape[-1] - 1}) but label {int(y.max())} was seen; build the head "
                f"with num_classes={int(y.max()) + 1} or more, or remap the labels"
            ) from error

    def hits(self, logits: Tensor, y: Tensor) -> Tensor:  # noqa: D102
        return (logits.argmax(dim=1) == y).sum().reshape(1)

    def clip_gradients(self, max_norm: float) -> None:  # noqa: D102
        nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)

    def evaluate(  # noqa: D102
        self, forward: nn.Module, loader: Iterable[tuple[Tensor, Tensor]], device: torch.device
    ) -> list[EvalResult]:
        return [evaluate(forward, loader, device=device)]

    def who(self, index: int) -> str:  # noqa: D102
        return ""

    def extra_state(self, histories: list[History]) -> dict[str, Any] | None:  # noqa: D102
        return None

    def load_extra_state(  # noqa: D102
        self, history: History, extra: dict[str, Any] | None, device: torch.device
    ) -> list[History]:
        return [history]

    def finish(self) -> None:  # noqa: D102
        return None


class StackedSeedsStep:
    """Train K TinyNets of the same specs as one stacked network, each on its own loader.

    Each seed's dropout masks come from a stream seeded with that seed, so a stacked seed
    trains as its separate run would, to float noise (grouped convolutions sum in another
    order). The engine checkpoints the stacked network with every seed's history and
    dropout stream, so a stacked run resumes exactly.

    Args:
        models: K TinyNets built from the same specs; their weights and BatchNorm
            statistics are overwritten with the trained ones when the run ends.
        loaders: One training loader per model, all of the same length and batch size.
        seeds: Each model's seed (its dropout stream).

    Raises:
        ValueError: If the models, loaders and seeds differ in number or are none.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> specs = [ConvSpec(out_channels=2, stride=4), GAPHeadSpec(num_classes=2)]
        >>> models = [build(specs, input_size=(8, 8), seed=s) for s in (0, 1)]
        >>> StackedSeedsStep(models, [[], []], [0, 1]).who(1)
        'seed 1: '
    """

    model_for_callbacks: nn.Module | None = None

    def __init__(
        self, models: Sequence[TinyNet], loaders: Sequence[BatchLoader], seeds: Sequence[int]
    ) -> None:
        self.models, self.loaders, self.seeds = list(models), list(loaders), tuple(seeds)
        self.members = len(self.models)
        if self.members == 0 or {len(self.loaders), len(self.seeds)} != {self.members}:
            raise ValueError(
                f"fit_stacked needs as many loaders and seeds as models (>= 1), got "
                f"{self.members} models, {len(self.loaders)} loaders and {len(self.seeds)} seeds"
            )
        self.stacked: StackedNet | None = None
        self._params: list[nn.Parameter] = []

    def steps_per_epoch(self, config: TrainConfig) -> int:  # noqa: D102
        lengths = {len(loader) for loader in self.loaders}
        if len(lengths) != 1 or 0 in lengths:
            raise ValueError(
                "every loader must yield the same, non-zero number of batches; got "
                f"{sorted(lengths)}"
            )
        for index, loader in enumerate(self.loaders):
            check_loader(loader, config, f"loader {index}")
        return lengths.pop()

    def check_labels(self, eval_loader: object) -> None:  # noqa: D102
        classes = self.models[0].num_classes
        for index, loader in enumerate(self.loaders):
            check_label_range(classes, loader, f"loader {index}")
        if eval_loader is not None:
            check_label_range(classes, eval_loader, "eval_loader")

    def prepare(self, device: torch.device) -> nn.Module:  # noqa: D102
        self.stacked = stack_models(self.models).to(device)
        self.stacked.seed_dropout(self.seeds)
        self._params = [p for p in self.stacked.parameters() if p.requires_grad]
        return self.stacked

    def set_epoch(self, epoch: int) -> None:  # noqa: D102
        for loader in self.loaders:
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)

    def batch(  # noqa: D102
        self,
        batches: Sequence[tuple[Tensor, Tensor]],
        device: torch.device,
        channels_last: bool,
        epoch: int,
        step: int,
    ) -> tuple[Tensor, Tensor]:
        sizes = {len(y) for _, y in batches}
        if len(sizes) != 1:
            raise ValueError(
                f"epoch {epoch}, step {step}: the loaders gave batches of sizes {sorted(sizes)}; "
                "stacked seeds need loaders over data sets of the same size"
            )
        assert self.stacked is not None
        images = [x.to(device, non_blocking=True) for x, _ in batches]
        x = self.stacked.stack_inputs(images)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = torch.stack([labels.to(device, non_blocking=True) for _, labels in batches], dim=1)
        return x, y

    def losses(  # noqa: D102
        self, logits: Tensor, y: Tensor, label_smoothing: float, epoch: int, step: int
    ) -> Tensor:
        return torch.stack(
            [
                F.cross_entropy(logits[:, k], y[:, k], label_smoothing=label_smoothing)
                for k in range(self.members)
            ]
        )

    def hits(self, logits: Tensor, y: Tensor) -> Tensor:  # noqa: D102
        return (logits.argmax(dim=2) == y).sum(dim=0)

    def clip_gradients(self, max_norm: float) -> None:
        """Clip each seed's gradient to ``max_norm`` on its own, as ``clip_grad_norm_`` would."""
        grads = [p.grad for p in self._params if p.grad is not None]
        if not grads:
            return
        count = self.members
        squares = torch.stack(
            [reduce(g.detach().float() ** 2, "(k c) ... -> k", "sum", k=count) for g in grads]
        )
        scale = (max_norm / (squares.sum(0).sqrt() + 1e-6)).clamp(max=1.0)  # one per seed
        for grad in grads:  # in place: each seed's rows of the stacked gradient
            grad.view(count, -1).mul_(scale[:, None].to(grad.dtype))

    def evaluate(  # noqa: D102
        self, forward: nn.Module, loader: Iterable[tuple[Tensor, Tensor]], device: torch.device
    ) -> list[EvalResult]:
        return evaluate_stacked(forward, loader, device)

    def who(self, index: int) -> str:  # noqa: D102
        return f"seed {self.seeds[index]}: "

    def extra_state(self, histories: list[History]) -> dict[str, Any] | None:  # noqa: D102
        assert self.stacked is not None
        return {
            "seeds": list(self.seeds),
            "histories": [history.to_list() for history in histories],
            "dropout_streams": self.stacked.dropout_streams_state(),
        }

    def load_extra_state(  # noqa: D102
        self, history: History, extra: dict[str, Any] | None, device: torch.device
    ) -> list[History]:
        if not extra or list(extra.get("seeds", ())) != list(self.seeds):
            found = None if not extra else extra.get("seeds")
            raise ValueError(
                f"cannot resume: the checkpoint holds stacked seeds {found}, this run trains "
                f"{list(self.seeds)}; resume with the same seeds or start over"
            )
        assert self.stacked is not None
        self.stacked.load_dropout_streams_state(extra["dropout_streams"], device)
        return [History.from_list(rows) for rows in extra["histories"]]

    def finish(self) -> None:  # noqa: D102
        if self.stacked is not None:
            unstack_models(self.stacked, into=self.models)
