"""The two training pipelines the speed benchmark compares, and the stopwatch that times them.

Both pipelines train the flagship V5 model (``examples/mnist_v5.py``) with the same
optimizer settings, batch size, device and thread count:

* **conventional**: ``torchvision.datasets.MNIST`` with per-sample PIL transforms
  (``RandomRotation((-10, 10), fill=(1,))``, ``ToTensor``, ``Normalize``), a
  ``torch.utils.data.DataLoader`` and the plain loop found in most MNIST write-ups;
* **tinyconv**: ``TensorLoader`` (whole ``uint8`` tensor on the device, batched
  rotation by ``grid_sample``) driven by ``tinyconv.train.fit``.

Each run serves exactly ``warmup_batches + timed_batches`` batches; the clock starts
when the first timed batch is requested (so worker start-up, first-call allocations and
``torch.compile`` are excluded) and stops when the loop asks for a batch after the last
one, i.e. after the last optimizer step.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import torchvision
from torch import Tensor, nn
from torch.profiler import record_function
from torch.utils.data import DataLoader, Subset
from torchvision import transforms

from tinyconv.data import ImageDataset, TensorLoader
from tinyconv.train import TrainConfig, fit

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
if str(EXAMPLES_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLES_DIR))

from mnist_v5 import RECIPE  # noqa: E402  (examples/ is not a package)

MODEL_SEED = 0
NEXT_BATCH_EVENT = "benchmark.next_batch"
"""Profiler range around every ``next(loader)`` call, so a profile shows the data time."""
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


@dataclass(frozen=True)
class Measurement:
    """One timed run of one pipeline.

    Args:
        pipeline: Label of the pipeline (``"conventional, num_workers=0"``, ...).
        images: Images trained on inside the timed window.
        seconds: Wall time of the timed window.
        data_seconds: Part of ``seconds`` spent waiting for the loader's next batch.
        cpu_seconds: CPU time of this process (all its threads, not loader worker
            processes) inside the timed window: with one thread, the work itself, whatever
            else the machine runs.
    """

    pipeline: str
    images: int
    seconds: float
    data_seconds: float
    cpu_seconds: float = 0.0

    @property
    def images_per_sec(self) -> float:
        """Training throughput of the timed window."""
        return self.images / self.seconds

    @property
    def images_per_cpu_second(self) -> float:
        """Images per second of this process's CPU time (robust to a busy machine)."""
        return self.images / self.cpu_seconds if self.cpu_seconds else float("nan")

    @property
    def data_share(self) -> float:
        """Fraction of the timed window spent waiting for batches."""
        return self.data_seconds / self.seconds


class StopwatchLoader:
    """Serve ``warmup_batches + timed_batches`` batches of ``loader`` and time the last ones.

    Args:
        loader: Any iterable of ``(x, y)`` batches with at least that many batches.
        batch_size: Images per batch (exposed for ``fit``'s batch-size check).
        warmup_batches: Untimed batches served first.
        timed_batches: Batches inside the timed window.
        synchronize: Called before every clock reading (``torch.cuda.synchronize`` on GPU).
        on_batch: Called after each batch's training step (e.g. ``profiler.step``).
    """

    def __init__(
        self,
        loader: Iterable[tuple[Tensor, Tensor]],
        batch_size: int,
        warmup_batches: int,
        timed_batches: int,
        synchronize: Callable[[], None] = lambda: None,
        on_batch: Callable[[], None] = lambda: None,
    ) -> None:
        if timed_batches < 1 or warmup_batches < 0:
            raise ValueError(
                f"need timed_batches >= 1 and warmup_batches >= 0, got {timed_batches} "
                f"and {warmup_batches}; raise --images or fix --warmup-batches"
            )
        self.loader = loader
        self.batch_size = batch_size
        self.warmup_batches = warmup_batches
        self.timed_batches = timed_batches
        self.synchronize = synchronize
        self.on_batch = on_batch
        self.seconds = 0.0
        self.data_seconds = 0.0
        self.cpu_seconds = 0.0

    def __len__(self) -> int:
        return self.warmup_batches + self.timed_batches

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.loader, "set_epoch"):
            self.loader.set_epoch(epoch)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        batches = iter(self.loader)
        started = cpu_started = 0.0
        for index in range(len(self)):
            if index > 0:
                self.on_batch()
            if index == self.warmup_batches:
                self.synchronize()
                started, cpu_started = time.perf_counter(), time.process_time()
                self.data_seconds = 0.0
            before = time.perf_counter()
            with record_function(NEXT_BATCH_EVENT):
                batch = next(batches)
            self.data_seconds += time.perf_counter() - before
            yield batch
        self.on_batch()
        self.synchronize()
        self.seconds = time.perf_counter() - started
        self.cpu_seconds = time.process_time() - cpu_started

    def measurement(self, pipeline: str) -> Measurement:
        """The figures of the last full pass."""
        images = self.timed_batches * self.batch_size
        return Measurement(pipeline, images, self.seconds, self.data_seconds, self.cpu_seconds)


def images_per_run(batch_size: int, warmup_batches: int, timed_batches: int, available: int) -> int:
    """Images one run serves (warm-up and timed batches), checked against the data set."""
    count = (warmup_batches + timed_batches) * batch_size
    if count > available:
        raise ValueError(
            f"one run needs {count} images ({warmup_batches} + {timed_batches} batches of "
            f"{batch_size}) but the training set has {available}; lower --images or "
            "--warmup-batches"
        )
    return count


def build_model(device: torch.device) -> nn.Module:
    """The V5 model, initialised identically for every pipeline."""
    torch.manual_seed(MODEL_SEED)
    return RECIPE.build_model().to(device)


def synchronizer(device: torch.device) -> Callable[[], None]:
    """A function that waits for the device's queued work (a no-op on the CPU)."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


# ---------------------------------------------------------------- conventional pipeline


def conventional_dataset(data_root: Path) -> torchvision.datasets.MNIST:
    """torchvision's MNIST with the per-sample transforms of the usual V5 notebook."""
    transform = transforms.Compose(
        [
            transforms.RandomRotation((-10.0, 10.0), fill=(1,)),
            transforms.ToTensor(),
            transforms.Normalize((MNIST_MEAN,), (MNIST_STD,)),
        ]
    )
    return torchvision.datasets.MNIST(str(data_root), train=True, transform=transform)


def plain_train_loop(
    model: nn.Module,
    loader: Iterable[tuple[Tensor, Tensor]],
    optimizer: torch.optim.Optimizer,
    device: torch.device,
) -> float:
    """The training loop of a typical MNIST notebook; returns the accuracy seen."""
    model.train()
    correct, processed = 0, 0
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        logits = model(data)
        loss = F.cross_entropy(logits, target)
        loss.backward()
        optimizer.step()
        _ = loss.item()  # what a progress bar shows
        correct += int(logits.argmax(dim=1).eq(target).sum().item())
        processed += len(data)
    return correct / max(processed, 1)


def run_conventional(
    dataset: torchvision.datasets.MNIST,
    *,
    workers: int,
    batch_size: int,
    warmup_batches: int,
    timed_batches: int,
    device: torch.device,
) -> Measurement:
    """Train on ``warmup + timed`` batches with a ``DataLoader``; time the last ones."""
    count = images_per_run(batch_size, warmup_batches, timed_batches, len(dataset))
    loader = DataLoader(
        Subset(dataset, range(count)),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
    )
    stopwatch = StopwatchLoader(
        loader, batch_size, warmup_batches, timed_batches, synchronizer(device)
    )
    model = build_model(device)
    config = RECIPE.train
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    plain_train_loop(model, stopwatch, optimizer, device)
    return stopwatch.measurement(f"conventional, num_workers={workers}")


# -------------------------------------------------------------------- tinyconv pipeline


def tinyconv_config(batch_size: int, device: torch.device, **changes: Any) -> TrainConfig:
    """V5's training config for one silent epoch on ``device``, plus ``changes``."""
    return dataclasses.replace(
        RECIPE.train,
        epochs=1,
        batch_size=batch_size,
        device=str(device),
        progress=False,
        **changes,
    )


def tinyconv_loader(
    train_set: ImageDataset,
    *,
    batch_size: int,
    warmup_batches: int,
    timed_batches: int,
    device: torch.device,
    augment: bool = True,
    on_batch: Callable[[], None] = lambda: None,
) -> StopwatchLoader:
    """A stopwatch around V5's ``TensorLoader`` over exactly the images one run needs."""
    count = images_per_run(batch_size, warmup_batches, timed_batches, len(train_set))
    loader = TensorLoader(
        train_set.subset(torch.arange(count)),
        batch_size,
        shuffle=True,
        seed=0,
        device=device,
        augment=RECIPE.augmentation() if augment else None,
    )
    return StopwatchLoader(
        loader, batch_size, warmup_batches, timed_batches, synchronizer(device), on_batch
    )


def run_tinyconv(
    train_set: ImageDataset,
    *,
    batch_size: int,
    warmup_batches: int,
    timed_batches: int,
    device: torch.device,
    augment: bool = True,
    label: str = "tinyconv TensorLoader + fit",
    model_change: Callable[[nn.Module], None] | None = None,
    **config_changes: Any,
) -> Measurement:
    """Train with ``TensorLoader`` + ``fit``; ``config_changes`` go into the ``TrainConfig``.

    ``model_change``, if given, is applied to the freshly built model before training.
    """
    stopwatch = tinyconv_loader(
        train_set,
        batch_size=batch_size,
        warmup_batches=warmup_batches,
        timed_batches=timed_batches,
        device=device,
        augment=augment,
    )
    config = tinyconv_config(batch_size, device, **config_changes)
    model = build_model(device)
    if model_change is not None:
        model_change(model)
    fit(model, stopwatch, config)
    return stopwatch.measurement(label)
