"""The training step recorded once as a CUDA graph and replayed: ``TrainConfig(capture=True)``.

A tiny network's step is a few hundred small kernels; on a GPU the time goes to launching
them from Python, not to the arithmetic. :class:`CapturedStep` records
:func:`~tinyconv.train.step_body.train_step` (forward, loss, backward, optimizer step and
the epoch's sums) once with ``torch.cuda.graph`` and replays it for every full batch,
copying the batch into static input buffers first. No ``torch.compile``, so capturing
costs a few warm-up steps, not a compile.

What keeps it the same training as the eager loop:

- the warm-up steps before the capture are real steps of the run (on a side stream, as
  CUDA graphs require), and a batch of another size (an epoch's last) runs the same
  function eagerly;
- the learning rate lives in a device tensor that torch's own scheduler fills in place
  (``LRScheduler`` updates a tensor learning rate with ``fill_``: OneCycle per batch,
  StepLR per epoch); the optimizer is SGD with the fused kernel, which reads that tensor;
- the sums and the non-finite watch are device tensors updated in place
  (:class:`~tinyconv.train.step_body.EpochSums`), read by the engine every
  ``sync_every`` steps (after the replayed step: a run with a non-finite loss stops
  there, its last checkpoint kept, as in the eager loop);
- batches, augmentation and dropout keys come from the same loaders and generators.

One model per run: stacked seeds swap each seed's random state inside the step, which a
graph does not replay, so the engine refuses ``capture`` with them (many captured seeds
share a GPU as processes instead). On a device without CUDA graphs (the CPU) nothing is
recorded: every step runs the same function eagerly with the learning-rate tensor, bit for
bit what the default loop computes, so the step's logic is tested without a GPU.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from tinyconv.train.config import TrainConfig
from tinyconv.train.step_body import EpochSums, train_step
from tinyconv.train.steps import StepStrategy

__all__ = ["WARMUP_STEPS", "CapturedStep"]

WARMUP_STEPS = 3
"""Real training steps run eagerly on a side stream before the capture (CUDA graphs need
the kernels' workspaces and the optimizer's momentum buffers to exist)."""


class CapturedStep:
    """Take training steps by replaying one recorded CUDA graph.

    Args:
        forward: The module in training mode (its parameters on ``device``).
        strategy: One model or stacked seeds.
        optimizer: Its SGD optimizer; its learning rate becomes a device tensor here (torch's
            scheduler then fills it in place), and on CUDA it uses the fused kernel.
        config: The run's settings.
        sums: The epoch's sums the step adds to (the engine resets them per epoch).
        device: Where the run trains; a graph is recorded only on CUDA.

    Raises:
        ValueError: For an optimizer other than SGD.

    Example:
        >>> from tinyconv.train.steps import SingleModelStep
        >>> model = nn.Linear(3, 2)
        >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> sums = EpochSums.on(1, torch.device("cpu"))
        >>> config = TrainConfig(capture=True, device="cpu")
        >>> step = CapturedStep(model, SingleModelStep(model, []), optimizer, config, sums,
        ...                     torch.device("cpu"))
        >>> step.step(torch.randn(4, 3), torch.tensor([0, 1, 0, 1]), epoch=1, step=1)
        >>> int(sums.step), step.records_graph, type(optimizer.param_groups[0]["lr"]).__name__
        (1, False, 'Tensor')
    """

    def __init__(
        self,
        forward: nn.Module,
        strategy: StepStrategy,
        optimizer: Optimizer,
        config: TrainConfig,
        sums: EpochSums,
        device: torch.device,
    ) -> None:
        if not isinstance(optimizer, torch.optim.SGD):
            raise ValueError(f"a captured step needs SGD, got {type(optimizer).__name__}")
        self.forward, self.strategy, self.optimizer = forward, strategy, optimizer
        self.config, self.sums = config, sums
        self.records_graph = device.type == "cuda"
        self.device = device
        # float64 on the CPU: the step reads it back exactly (bit for bit the float the
        # eager loop uses); float32 elsewhere (the fused CUDA kernel's type; MPS has no
        # float64)
        dtype = torch.float64 if device.type == "cpu" else torch.float32
        for group in optimizer.param_groups:
            group["lr"] = torch.tensor(float(group["lr"]), dtype=dtype, device=device)
            if self.records_graph:
                group["fused"], group["foreach"] = True, False
        self.graph: torch.cuda.CUDAGraph | None = None
        self.warmed_up = 0
        self.static_x: Tensor | None = None
        self.static_y: Tensor | None = None

    def _eager(self, x: Tensor, y: Tensor, epoch: int, step: int) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        train_step(self.forward, self.strategy, self.optimizer, self.config, self.sums, x, y,
                   epoch=epoch, step=step)  # fmt: skip

    def step(self, x: Tensor, y: Tensor, *, epoch: int, step: int) -> None:
        """Take one training step on ``(x, y)`` (replayed, warmed up or eager).

        Args:
            x: The input batch, on the device.
            y: Its labels.
            epoch: The epoch (messages only).
            step: The step in the epoch (messages only).
        """
        full = x.shape[0] == self.config.batch_size
        if not self.records_graph or not full:  # another size (an epoch's last): eagerly
            self._eager(x, y, epoch, step)
        else:
            with torch.cuda.device(self.device):  # streams and graphs of the run's GPU
                self._on_gpu(x, y, epoch, step)

    def _on_gpu(self, x: Tensor, y: Tensor, epoch: int, step: int) -> None:
        """A full batch on the GPU: replayed, a warm-up step, or the one recorded."""
        if self.graph is not None:
            self.static_x.copy_(x)  # type: ignore[union-attr]
            self.static_y.copy_(y)  # type: ignore[union-attr]
            self.graph.replay()
        elif self.warmed_up < WARMUP_STEPS:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self._eager(x, y, epoch, step)
            torch.cuda.current_stream().wait_stream(side)
            self.warmed_up += 1
        else:
            self._capture(x, y, epoch, step)

    def _capture(self, x: Tensor, y: Tensor, epoch: int, step: int) -> None:
        """Record the step on this batch's buffers, then replay it once (the real step)."""
        self.static_x, self.static_y = x.clone(), y.clone()
        self.optimizer.zero_grad(set_to_none=True)  # backward allocates them in the graph
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            train_step(self.forward, self.strategy, self.optimizer, self.config, self.sums,
                       self.static_x, self.static_y, epoch=epoch, step=step)  # fmt: skip
        self.graph = graph
        graph.replay()  # recording ran nothing: this is the step
