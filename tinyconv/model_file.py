"""One model file: ``save(model, path)`` and ``load(path)``.

A model file holds everything needed to use a trained :class:`~tinyconv.TinyNet`
without the code that made it: the architecture (specs as dicts, input shape),
the number of classes and their names, the normalisation the model was trained
with (per-channel mean and std of ``x / 255``), the dataset's name, free-form
JSON-able metadata (recipe, seed, scores) and the weights. It is a ``torch.save``
file of plain containers and tensors, so :func:`load` reads it with
``torch.load(weights_only=True)``: no pickled code is ever executed.

Damage is refused, not loaded: since version 2 a model file stores a SHA-256 digest of
everything in it (record and every tensor's bytes, see :mod:`tinyconv._digest`), checked at
load; a version-1 file (written before the digest) is checked against the CRC-32 of every
record of its zip archive, which ``torch.load`` itself does not check.

:func:`load` also reads a training checkpoint written by :func:`tinyconv.train.fit`
for a TinyNet (checkpoints carry the same model record), giving the model as
trained up to that epoch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from tinyconv._digest import archive_problem, payload_problem, with_digest
from tinyconv.atomic import atomic_write
from tinyconv.errors import ModelFileError, OutputExistsError, OutputPathError, SpecError
from tinyconv.model import TinyNet, build_from_architecture

MODEL_FILE_FORMAT = "tinyconv.model"
MODEL_FILE_VERSION = 2
_READABLE_VERSIONS = {1: False, 2: True}  # version -> whether it stores a digest

__all__ = ["MODEL_FILE_FORMAT", "MODEL_FILE_VERSION", "load", "model_record", "save"]


def _floats(name: str, values: Sequence[float] | float, channels: int) -> list[float]:
    items = [values] if isinstance(values, int | float) else list(values)
    if len(items) == 1 and channels > 1:
        items = items * channels
    if len(items) != channels or not all(
        isinstance(v, int | float) and math.isfinite(v) for v in items
    ):
        raise ValueError(
            f"{name} must be {channels} finite number(s), one per input channel, got {values!r}"
        )
    return [float(v) for v in items]


def model_record(model: TinyNet) -> dict[str, Any]:
    """Return everything about ``model`` but its weights, as JSON-able data.

    Args:
        model: The model; its ``class_names``, ``normalization``, ``dataset`` and
            ``metadata`` attributes are recorded when set.

    Returns:
        ``architecture``, ``num_classes``, ``class_names``, ``normalization``
        (``{"mean": [...], "std": [...]}`` or ``None``), ``dataset`` and ``metadata``.

    Raises:
        TypeError: If ``model`` is not a :class:`~tinyconv.TinyNet`.

    Example:
        >>> from tinyconv import GAPHeadSpec, build
        >>> sorted(model_record(build([GAPHeadSpec(num_classes=3)])))
        ['architecture', 'class_names', 'dataset', 'metadata', 'normalization', 'num_classes']
    """
    if not isinstance(model, TinyNet):
        raise TypeError(
            f"only a TinyNet (made by tinyconv.build) can be saved as a model file, got "
            f"{type(model).__name__}; for other modules use torch.save(model.state_dict())"
        )
    return {
        "architecture": model.architecture(),
        "num_classes": model.num_classes,
        "class_names": None if model.class_names is None else list(model.class_names),
        "normalization": None if model.normalization is None else model.normalization.to_dict(),
        "dataset": model.dataset,
        "metadata": dict(model.metadata),
    }


def _complete_from_dataset(record: dict[str, Any], dataset: str, channels: int) -> None:
    """Fill in the class names and normalisation a model lacks from its dataset's facts.

    A model file that names its dataset but records no normalisation would take raw
    0..255 input without a word; with the dataset's it refuses it, as every loaded model
    trained by a recipe does.
    """
    if record["class_names"] is not None and record["normalization"] is not None:
        return
    from tinyconv.data import dataset_info  # a built-in's facts are known without its files

    info = dataset_info(dataset)
    if record["class_names"] is None:
        if len(info.class_names) != record["num_classes"]:
            raise ValueError(
                f"the model has {record['num_classes']} classes but {dataset} has "
                f"{len(info.class_names)}; pass the dataset the model was trained on"
            )
        record["class_names"] = list(info.class_names)
    if record["normalization"] is None:
        record["normalization"] = info.normalization.for_channels(channels).to_dict()


def save(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    mean: Sequence[float] | float | None = None,
    std: Sequence[float] | float | None = None,
    dataset: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model`` and what it needs to be used into one file, atomically.

    Arguments left ``None`` fall back to the model's own attributes (a model trained by
    a recipe already knows its dataset, class names and normalisation).

    Args:
        model: A :class:`~tinyconv.TinyNet` (a ``torch.compile`` wrapper is unwrapped).
        path: Destination file; its folder must exist.
        class_names: One name per class, in label order.
        mean: Per-channel mean of ``x / 255`` used to normalise inputs (one number is
            repeated over the channels).
        std: Per-channel standard deviation, as ``mean``; both or neither.
        dataset: Name of the registered dataset the model was trained on (e.g.
            ``"mnist"``; see :func:`tinyconv.data.dataset_names`). Class names and
            normalisation the model lacks (and are not given) are that dataset's, so the
            loaded model refuses raw 0..255 input as a recipe-trained one does.
        metadata: Extra JSON-able facts (recipe, seed, scores), merged over the model's.
        overwrite: Replace an existing file; otherwise an existing file is an error.

    Returns:
        The destination path.

    Raises:
        TypeError: If ``model`` is not a TinyNet.
        ValueError: For class names or normalisation that do not fit the model, or a
            ``dataset`` with another number of classes.
        DatasetRegistryError: If ``dataset`` names no registered dataset.
        OutputExistsError: If ``path`` exists and ``overwrite`` is false (a
            ``FileExistsError``).
        OutputPathError: If ``path`` is a folder, or the file cannot be written (a
            read-only folder, a full disk).
        FileNotFoundError: If the folder of ``path`` does not exist.

    Example:
        >>> import tempfile
        >>> from tinyconv import ConvSpec, GAPHeadSpec, build
        >>> net = build([ConvSpec(out_channels=4), GAPHeadSpec(num_classes=2)], seed=0)
        >>> path = Path(tempfile.mkdtemp()) / "net.pt"
        >>> _ = save(net, path, class_names=["no", "yes"], mean=0.5, std=0.25)
        >>> copy = load(path)
        >>> copy.class_names, copy.normalization
        (('no', 'yes'), Normalization(mean=(0.5,), std=(0.25,)))
    """
    model = getattr(model, "_orig_mod", model)
    record = model_record(model)  # type: ignore[arg-type]
    if class_names is not None:
        names = [str(name) for name in class_names]
        if len(names) != record["num_classes"]:
            raise ValueError(
                f"class_names has {len(names)} names but the model has "
                f"{record['num_classes']} classes; give one name per class"
            )
        record["class_names"] = names
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std (the normalisation), or neither")
    if mean is not None and std is not None:
        channels = model.in_channels  # type: ignore[union-attr]
        record["normalization"] = {
            "mean": _floats("mean", mean, channels),
            "std": _floats("std", std, channels),
        }
        if min(record["normalization"]["std"]) <= 0:
            raise ValueError(f"std must be > 0, got {std!r}")
    if dataset is not None:
        from tinyconv.data.registry import check_dataset_name  # reads no data

        record["dataset"] = check_dataset_name(dataset)
        _complete_from_dataset(record, record["dataset"], model.in_channels)  # type: ignore[union-attr]
    record["metadata"].update(metadata or {})
    target = Path(path)
    if target.is_dir():
        raise OutputPathError(f"{str(target)!r} is a folder; give a file name, e.g. model.pt")
    if target.exists() and not overwrite:
        raise OutputExistsError(
            f"{str(target)!r} exists; pass overwrite=True to replace it or choose another path"
        )
    if not isinstance(record["metadata"], Mapping):
        raise TypeError(f"metadata must be a dict, got {type(record['metadata']).__name__}")
    payload = with_digest(
        {
            "format": MODEL_FILE_FORMAT,
            "version": MODEL_FILE_VERSION,
            **record,
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        }
    )
    try:
        return atomic_write(target, lambda file: torch.save(payload, file))
    except FileNotFoundError:
        raise  # the folder does not exist; atomic_write's message says to create it
    except OSError as error:  # a read-only folder or file system, a full disk
        raise OutputPathError(
            f"cannot write the model file {str(target)!r} "
            f"({error.strerror or type(error).__name__}); save it in a folder you can write to"
        ) from None


def _read(source: Path) -> Any:
    if not source.is_file():
        from tinyconv.pretrained import SHIPPED

        raise FileNotFoundError(
            f"no model file at {str(source)!r}; check the path, or give the name of a model "
            f"tinyconv ships ({', '.join(sorted(SHIPPED))})"
        )
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file can fail anywhere in the unpickler
        raise ModelFileError(
            f"cannot read {str(source)!r} ({source.stat().st_size} bytes) as a model file: it "
            f"is corrupt, truncated or not a torch file ({type(error).__name__}); save the "
            "model again with tinyconv.save or point to another file"
        ) from error


def _damaged(source: Path, problem: str) -> ModelFileError:
    return ModelFileError(
        f"{str(source)!r} is damaged: {problem}, so it changed after it was written (a disk "
        "or copy error, or an edit); restore the file from a good copy or save the model again"
    )


def _record_and_weights(source: Path, payload: Any) -> tuple[Mapping[str, Any], Mapping]:
    if isinstance(payload, dict) and payload.get("format") == MODEL_FILE_FORMAT:
        version = payload.get("version")
        if version not in _READABLE_VERSIONS:
            problem = archive_problem(source)
            if problem is not None:
                raise _damaged(source, problem)
            raise ModelFileError(
                f"{str(source)!r} is a tinyconv model file of version {version!r}; this "
                f"tinyconv reads versions {sorted(_READABLE_VERSIONS)}: upgrade tinyconv"
            )
        problem = payload_problem(source, payload, digest_required=_READABLE_VERSIONS[version])
        if problem is not None:
            raise _damaged(source, problem)
        return payload, payload.get("state_dict")
    if isinstance(payload, dict) and isinstance(payload.get("model_record"), dict):
        from tinyconv.train.checkpoint import checkpoint_problem  # a fit checkpoint

        problem = checkpoint_problem(source, payload)
        if problem is not None:
            raise _damaged(source, problem)
        return payload["model_record"], payload.get("model")
    problem = archive_problem(source)
    if problem is not None:
        raise _damaged(source, problem)
    if isinstance(payload, dict) and "model" in payload and "optimizer" in payload:
        raise ModelFileError(
            f"{str(source)!r} is a training checkpoint without a model record (written by an "
            "older tinyconv, or for a model that is not a TinyNet); rebuild the model from "
            "its specs and load_state_dict(load_checkpoint(path).model_state)"
        )
    raise ModelFileError(
        f"{str(source)!r} is not a tinyconv model file (no {MODEL_FILE_FORMAT!r} format tag); "
        "write one with tinyconv.save(model, path)"
    )


def load(path: str | os.PathLike[str]) -> TinyNet:
    """Read a model file (or a ``fit`` checkpoint of a TinyNet) back into a model.

    Args:
        path: A file written by :func:`save`, a checkpoint written by
            :func:`tinyconv.train.fit` for a TinyNet, or, when no such file exists, the
            name of a model tinyconv ships (``"mnist_v5"``: see
            :data:`tinyconv.pretrained.SHIPPED`).

    Returns:
        The model on the CPU in eval mode, with ``class_names``, ``normalization``,
        ``dataset`` and ``metadata`` restored.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ModelFileError: If the file is unreadable, truncated, damaged (its digest, or
            for a version-1 file its archive's CRCs, do not match its content), of another
            format or version, or its weights do not fit its architecture.

    Example:
        >>> import tempfile
        >>> broken = Path(tempfile.mkdtemp()) / "broken.pt"
        >>> _ = broken.write_bytes(b"not a model")
        >>> load(broken)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        tinyconv.errors.ModelFileError: ...
    """
    source = Path(path)
    if not source.is_file():
        from tinyconv.pretrained import shipped_path

        source = shipped_path(str(path)) or source
    record, weights = _record_and_weights(source, _read(source))
    try:
        model = build_from_architecture(record.get("architecture"))  # type: ignore[arg-type]
        model.load_state_dict(weights)  # type: ignore[arg-type]
        model.normalization = record.get("normalization") or None
    except (SpecError, ValueError, RuntimeError, TypeError) as error:
        raise ModelFileError(
            f"{str(source)!r} holds a model that cannot be rebuilt: {error}"
        ) from error
    names = record.get("class_names")
    model.class_names = None if names is None else tuple(names)
    model.dataset = record.get("dataset")
    model.metadata = dict(record.get("metadata") or {})
    return model.eval()
