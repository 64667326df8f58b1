"""``fit_stacked``: train K seeds of one recipe as one stacked network, one pass per step.

The K models are stacked (:func:`~tinyconv.train.stack_models`: grouped convolutions,
BatchNorm over ``K * C`` channels, per-seed dropout streams), each seed is fed its own batch
from its own loader (stacked along channels), and the loss is the *sum* of the K per-seed
cross-entropies, so the gradient of each seed's weights is exactly that of its own loss.
The optimizer acts element-wise, so SGD (momentum, Nesterov, weight decay), Adam, AdamW,
StepLR and OneCycle update each seed as its own run would; gradient clipping is applied
per seed. Each seed's dropout masks come from a stream seeded with that seed, as in a
separate :func:`~tinyconv.train.fit` run, so a stacked run matches K separate runs to float
noise (grouped convolutions sum in another order).

Not in the stacked trainer: callbacks and checkpoints. An interrupted stacked run starts
again from epoch 1; the study runner says so.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tinyconv.eval_mode import eval_mode
from tinyconv.model import TinyNet
from tinyconv.train.compiled import begin_step, compiled_forward
from tinyconv.train.config import TrainConfig
from tinyconv.train.device import resolve_device
from tinyconv.train.evaluate import EvalResult
from tinyconv.train.history import EpochRecord, History
from tinyconv.train.optim import build_optimizer, build_scheduler
from tinyconv.train.seed import seed_everything
from tinyconv.train.stacked_model import StackedNet, stack_models, unstack_models
from tinyconv.train.trainer import (
    ACCELERATOR_SYNC_EVERY,
    BatchLoader,
    NonFiniteLossError,
    _Progress,
)


def fit_stacked(
    models: Sequence[TinyNet],
    loaders: Sequence[BatchLoader],
    config: TrainConfig,
    *,
    eval_loader: Iterable[tuple[Tensor, Tensor]] | None = None,
    eval_name: str = "val",
    seeds: Sequence[int] | None = None,
) -> list[History]:
    """Train K models of the same specs at once, each on its own loader, as one network.

    Args:
        models: K TinyNets built from the same specs; trained in place (their weights and
            BatchNorm statistics are overwritten with the trained ones at the end).
        loaders: One training loader per model (own shuffle and augmentation seed), all of
            the same length and batch sizes; ``set_epoch`` is called before each epoch.
        config: The settings shared by every seed (its ``seed`` is not used for dropout).
        eval_loader: Scored by every seed after every epoch, if given.
        eval_name: Name of the evaluated set; prefixes its metrics.
        seeds: Each model's seed, for its dropout stream (as ``config.seed`` in a
            separate :func:`~tinyconv.train.fit` run); default ``config.seed + k``.

    Returns:
        One :class:`~tinyconv.train.History` per model. ``seconds`` is the wall time of the
        whole stacked epoch and ``images_per_sec`` counts each seed's own images, so both
        are per seed of a run that trained K seeds in that time.

    Raises:
        ValueError: If the models, loaders and seeds differ in number, a loader's length or
            batch size does not match, or the models cannot be stacked.
        NonFiniteLossError: If a seed's training loss is NaN or infinite (the message names
            the seed); nothing is written back into the models then.

    Example:
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> specs = [ConvSpec(out_channels=2, stride=4), GAPHeadSpec(num_classes=2)]
        >>> models = [build(specs, input_size=(8, 8), seed=s) for s in (0, 1)]
        >>> batch = (torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 0, 1]))
        >>> config = TrainConfig(epochs=2, batch_size=4, device="cpu", progress=False)
        >>> histories = fit_stacked(models, [[batch], [batch]], config, seeds=[0, 1])
        >>> [len(history) for history in histories]
        [2, 2]
    """
    count = len(models)
    seeds = tuple(range(config.seed, config.seed + count)) if seeds is None else tuple(seeds)
    if count == 0 or len(loaders) != count or len(seeds) != count:
        raise ValueError(
            f"fit_stacked needs as many loaders and seeds as models (>= 1), got {count} "
            f"models, {len(loaders)} loaders and {len(seeds)} seeds"
        )
    steps = _steps_per_epoch(loaders, config)
    device = resolve_device(config.device)
    seed_everything(config.seed)
    stacked = stack_models(models).to(device)
    stacked.seed_dropout(seeds)
    if config.channels_last:
        stacked.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(stacked, config)
    scheduler, interval = build_scheduler(optimizer, config, steps)
    forward = compiled_forward(stacked, config)
    params = [p for p in stacked.parameters() if p.requires_grad]
    sync_every = config.sync_every or (1 if device.type == "cpu" else ACCELERATOR_SYNC_EVERY)
    sum_dtype = torch.float32 if device.type == "mps" else torch.float64
    histories = [History() for _ in range(count)]

    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        for loader in loaders:
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)
        lr = optimizer.param_groups[0]["lr"]
        forward.train()
        loss_sum = torch.zeros(count, dtype=sum_dtype, device=device)
        correct = torch.zeros(count, dtype=torch.long, device=device)
        first_bad = torch.zeros(count, dtype=torch.long, device=device)  # 0: all finite
        bad_loss = torch.zeros(count, dtype=torch.float32, device=device)
        samples = 0
        # Iterate each loader through the same (silent) tqdm wrapper as fit: tqdm.auto's
        # constructor calls iter() once more, so a TensorLoader inside fit serves the order
        # of its epoch + 1. Going the same way keeps each seed on its separate run's batches.
        wrapped = [_Progress(False).bar(loader, steps, "") for loader in loaders]
        for step, batches in enumerate(zip(*wrapped, strict=True), start=1):
            x, y = _stack_batch(stacked, batches, device, config.channels_last, epoch, step)
            begin_step(config)
            logits = forward(x)  # b k classes
            losses = torch.stack(
                [
                    F.cross_entropy(logits[:, k], y[:, k], label_smoothing=config.label_smoothing)
                    for k in range(count)
                ]
            )
            detached = losses.detach()
            newly_bad = (first_bad == 0) & ~torch.isfinite(detached)
            first_bad = torch.where(newly_bad, step, first_bad)
            bad_loss = torch.where(newly_bad, detached.float(), bad_loss)
            if step % sync_every == 0 or step == steps:
                _raise_if_non_finite(first_bad, bad_loss, seeds, epoch, steps, lr)
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()  # seed k's weights see only seed k's loss
            if config.grad_clip is not None:
                _clip_per_seed(params, count, config.grad_clip)
            optimizer.step()
            if scheduler is not None and interval == "batch":
                scheduler.step()
            loss_sum += detached.to(sum_dtype) * y.shape[0]
            correct += (logits.detach().argmax(dim=2) == y).sum(dim=0)
            samples += y.shape[0]
        _raise_if_non_finite(first_bad, bad_loss, seeds, epoch, steps, lr)
        if scheduler is not None and interval == "epoch":
            scheduler.step()
        train_seconds = time.perf_counter() - started
        scores = None if eval_loader is None else evaluate_stacked(forward, eval_loader, device)
        seconds = time.perf_counter() - started
        for k, history in enumerate(histories):
            history.append(
                EpochRecord(
                    epoch=epoch,
                    train_loss=float(loss_sum[k]) / samples,
                    train_acc=int(correct[k]) / samples,
                    eval_loss=None if scores is None else scores[k].loss,
                    eval_acc=None if scores is None else scores[k].accuracy,
                    eval_name=None if scores is None else eval_name,
                    lr=lr,
                    seconds=seconds,
                    images_per_sec=samples / train_seconds,
                )
            )
        if config.progress is True or (config.progress is None and not sys.stderr.isatty()):
            scored = " ".join(f"{h.final.eval_acc or 0:.4f}" for h in histories)
            print(
                f"epoch {epoch}/{config.epochs} seeds {list(seeds)}: {eval_name}_acc {scored} "
                f"({count} x {samples / train_seconds:.0f} img/s, {seconds:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
    unstack_models(stacked, into=models)
    return histories


def evaluate_stacked(
    model: nn.Module, loader: Iterable[tuple[Tensor, Tensor]], device: torch.device | str
) -> list[EvalResult]:
    """Score every seed of a stacked network on the same batches, with no sync per batch.

    Args:
        model: A :class:`~tinyconv.train.StackedNet` (or its compiled form).
        loader: ``(x, y)`` batches of single-model images; each seed sees every batch.
        device: Where to run.

    Returns:
        One :class:`~tinyconv.train.EvalResult` per seed, in stacking order.

    Raises:
        ValueError: If the loader yields no samples.
    """
    net: StackedNet = getattr(model, "_orig_mod", model)
    count, classes = net.stack_size, net.num_classes
    sum_dtype = torch.float32 if torch.device(device).type == "mps" else torch.float64
    total = torch.zeros(count, dtype=sum_dtype, device=device)
    seen = torch.zeros(classes, dtype=torch.long, device=device)
    hits = torch.zeros(count, classes, dtype=torch.long, device=device)
    with eval_mode(model):
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            logits = model(net.repeat_input(x))  # b k classes
            for k in range(count):
                total[k] += F.cross_entropy(logits[:, k].float(), y, reduction="sum")
                hits[k] += torch.bincount(y[logits[:, k].argmax(dim=1) == y], minlength=classes)
            seen += torch.bincount(y, minlength=classes)
    samples = int(seen.sum())
    if samples == 0:
        raise ValueError("evaluate_stacked got no samples: the loader yielded no batches")
    results = []
    for k in range(count):
        pairs = zip(hits[k].tolist(), seen.tolist(), strict=True)
        per_class = [h / s if s else float("nan") for h, s in pairs]
        results.append(
            EvalResult(float(total[k]) / samples, int(hits[k].sum()) / samples, per_class, samples)
        )
    return results


def _steps_per_epoch(loaders: Sequence[BatchLoader], config: TrainConfig) -> int:
    lengths = {len(loader) for loader in loaders}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(
            f"every loader must yield the same, non-zero number of batches; got {sorted(lengths)}"
        )
    for index, loader in enumerate(loaders):
        batch_size = getattr(loader, "batch_size", None)
        if isinstance(batch_size, int) and batch_size != config.batch_size:
            raise ValueError(
                f"loader {index} has batch_size {batch_size} but config.batch_size is "
                f"{config.batch_size}; build every loader with batch_size=config.batch_size"
            )
    return lengths.pop()


def _stack_batch(
    net: StackedNet,
    batches: Sequence[tuple[Tensor, Tensor]],
    device: torch.device,
    channels_last: bool,
    epoch: int,
    step: int,
) -> tuple[Tensor, Tensor]:
    """One batch per seed -> images ``(B, K*C, H, W)`` and labels ``(B, K)``."""
    sizes = {len(y) for _, y in batches}
    if len(sizes) != 1:
        raise ValueError(
            f"epoch {epoch}, step {step}: the loaders gave batches of sizes {sorted(sizes)}; "
            "stacked seeds need loaders over data sets of the same size"
        )
    x = net.stack_inputs([images.to(device, non_blocking=True) for images, _ in batches])
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.stack([labels.to(device, non_blocking=True) for _, labels in batches], dim=1)
    return x, y


def _clip_per_seed(params: list[nn.Parameter], count: int, max_norm: float) -> None:
    """Clip each seed's gradient to ``max_norm`` on its own, as ``clip_grad_norm_`` would."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    squares = torch.stack([g.detach().float().reshape(count, -1).pow(2).sum(1) for g in grads])
    scale = (max_norm / (squares.sum(0).sqrt() + 1e-6)).clamp(max=1.0)  # one factor per seed
    for grad in grads:
        grad.view(count, -1).mul_(scale[:, None].to(grad.dtype))


def _raise_if_non_finite(
    first_bad: Tensor, bad_loss: Tensor, seeds: Sequence[int], epoch: int, steps: int, lr: float
) -> None:
    bad = first_bad.tolist()  # the host sync, once per ``sync_every`` steps
    for seed, step, loss in zip(seeds, bad, bad_loss.tolist(), strict=True):
        if step:
            raise NonFiniteLossError(
                f"seed {seed}: training loss is {loss} at epoch {epoch}, step {step}/{steps} "
                f"of a stacked run of seeds {list(seeds)}; nothing was saved (stacked runs keep "
                f"no checkpoint). Lower the learning rate (epoch started at lr={lr:.3g}), set "
                "grad_clip, or check the inputs for NaN/inf",
                epoch=epoch,
                step=step,
                loss=loss,
            )
