"""``resolve_device``: turn ``"auto"`` or a device string into an available ``torch.device``."""

from __future__ import annotations

import torch

from tinyconv.errors import TinyconvError, UsageError

SUPPORTED_DEVICE_TYPES: tuple[str, ...] = ("cpu", "cuda", "mps")


class DeviceUnavailableError(TinyconvError, RuntimeError):
    """The requested device does not exist on this machine (CUDA without a GPU, say).

    Example:
        >>> issubclass(DeviceUnavailableError, RuntimeError)
        True
    """


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def parse_device(spec: str | torch.device) -> torch.device:
    """Parse a device string (not ``"auto"``) and check that its type is supported.

    Args:
        spec: A device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``) or a
            ``torch.device``.

    Returns:
        The device; whether it is available here is not checked.

    Raises:
        UsageError: If ``spec`` is not a device string of a supported type (a
            ``ValueError``).

    Example:
        >>> parse_device("cuda:1")
        device(type='cuda', index=1)
    """
    try:
        device = spec if isinstance(spec, torch.device) else torch.device(spec)
    except (RuntimeError, TypeError) as error:
        raise UsageError(
            f"device must be 'auto' or a device string such as 'cpu', 'cuda', 'cuda:1', 'mps'; "
            f"got {spec!r}"
        ) from error
    if device.type not in SUPPORTED_DEVICE_TYPES:
        raise UsageError(
            f"device type {device.type!r} (from {spec!r}) is not supported; "
            f"use 'auto' or one of {', '.join(SUPPORTED_DEVICE_TYPES)}"
        )
    return device


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """Return the device to train on.

    ``"auto"`` picks CUDA if available, then Apple MPS, then the CPU. An explicit device is
    checked for availability so a run fails at once instead of at the first ``.to()``.

    Args:
        spec: ``"auto"``, a device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``)
            or a ``torch.device``.

    Returns:
        The resolved device.

    Raises:
        UsageError: If ``spec`` is not a device string of a supported type (a
            ``ValueError``).
        DeviceUnavailableError: If the requested device is not available on this machine
            (a ``RuntimeError``).

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device("auto").type in ("cuda", "mps", "cpu")
        True
    """
    if isinstance(spec, str) and spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = parse_device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {spec!r} was requested but CUDA is not available "
                "(torch.cuda.is_available() is False); use device='auto' or 'cpu'"
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceUnavailableError(
                f"device {spec!r} was requested but only {count} CUDA device(s) exist "
                f"(indices 0..{count - 1}); use 'cuda:0' .. 'cuda:{count - 1}' or 'auto'"
            )
    if device.type == "mps" and not _mps_available():
        raise DeviceUnavailableError(
            f"device {spec!r} was requested but MPS is not available "
            "(torch.backends.mps.is_available() is False); use device='auto' or 'cpu'"
        )
    return device


def sum_dtype(device: str | torch.device) -> torch.dtype:
    """The dtype of running sums on ``device``: float64, float32 on MPS (it has no float64).

    Float64 sums of float32 losses on the device equal summing Python floats, without a
    host sync per step; training, evaluation and stacked evaluation all sum this way.

    Example:
        >>> sum_dtype("cpu")
        torch.float64
    """
    return torch.float32 if torch.device(device).type == "mps" else torch.float64
