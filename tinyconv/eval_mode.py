"""``eval_mode``: run a model in eval mode without gradients, then put every module back.

``model.train(was_training)`` would set one flag on every submodule; a model whose
BatchNorm layers were frozen (eval) inside a training model would come back with
them unfrozen. This context manager restores each module's own flag instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode under ``torch.no_grad()``, restoring every module's mode after.

    Args:
        model: Any ``nn.Module``.

    Yields:
        The model, in eval mode.

    Example:
        >>> from torch import nn
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        >>> _ = net[1].eval()  # a frozen BatchNorm inside a training model
        >>> with eval_mode(net):
        ...     net.training
        False
        >>> net.training, net[1].training
        (True, False)
    """
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        for module, training in modes.items():
            module.training = training
