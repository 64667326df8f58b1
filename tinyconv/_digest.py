"""Digests that make damaged files detectable: model files, checkpoints and results files.

``torch.load`` does not check the CRC-32 that ``torch.save`` stores for every record of its
zip archive, so a few flipped bytes inside a weight tensor load without a word. tinyconv
therefore writes a SHA-256 :func:`content_digest` of what a file holds (every tensor's
dtype, shape and bytes, and every plain value, in order) into the file itself and checks it
after reading (:func:`digest_problem`). Files written before the digest existed are checked
against their archive's CRCs instead (:func:`archive_problem`), which ``torch.save`` has
always written. Results files (JSON) carry a digest of their canonical JSON
(:func:`json_digest`).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import torch

DIGEST_KEY = "digest"
"""The key under which a file stores the digest of the rest of its content."""


def content_digest(value: Any) -> str:
    """Return the SHA-256 digest of nested containers of tensors and plain values.

    Every tensor contributes its dtype, shape and bytes (on the CPU); dicts their keys and
    values in order; lists and tuples their items; strings, numbers, booleans and ``None``
    an unambiguous tagged form. Loading a ``torch.save`` file gives back a value with the
    same digest; any changed byte of a tensor or value gives another.

    Args:
        value: A tensor, a dict, list or tuple of such, or a plain value (``str``,
            ``int``, ``float``, ``bool``, ``None``, ``bytes``, ``torch.dtype``,
            ``torch.device``).

    Returns:
        ``"sha256:<64 hex digits>"``.

    Raises:
        TypeError: For any other type of value (it could not be read back with
            ``weights_only=True`` either).

    Example:
        >>> a = content_digest({"w": torch.ones(2), "lr": 0.1})
        >>> a == content_digest({"w": torch.ones(2), "lr": 0.1}), a[:7]
        (True, 'sha256:')
        >>> a == content_digest({"w": torch.tensor([1.0, 1.0001]), "lr": 0.1})
        False
    """
    digest = hashlib.sha256()
    _feed(digest, value)
    return f"sha256:{digest.hexdigest()}"


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, Mapping):
        digest.update(f"D{len(value)}|".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, list | tuple):
        digest.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)}|".encode())
        for item in value:
            _feed(digest, item)
    elif value is None or isinstance(value, bool):
        digest.update(f"{value}|".encode())
    elif isinstance(value, int):
        digest.update(f"I{value}|".encode())
    elif isinstance(value, float):
        digest.update(f"F{value!r}|".encode())
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        digest.update(f"S{len(data)}|".encode() + data)
    elif isinstance(value, bytes):
        digest.update(f"Y{len(value)}|".encode() + value)
    elif isinstance(value, torch.dtype | torch.device):
        digest.update(f"Q{value}|".encode())
    else:
        raise TypeError(
            f"cannot store a {type(value).__name__} in a tinyconv file; use tensors, dicts, "
            "lists and plain JSON-able values"
        )


def with_digest(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``payload`` with :data:`DIGEST_KEY` added: the digest of everything else.

    Args:
        payload: What a file will hold (without a digest).

    Returns:
        A new dict, the payload's items in order, then the digest.

    Example:
        >>> sorted(with_digest({"epoch": 3}))
        ['digest', 'epoch']
    """
    return {**payload, DIGEST_KEY: content_digest(dict(payload))}


def digest_problem(payload: Mapping[str, Any]) -> str | None:
    """Say what is wrong with a payload's stored digest, or ``None`` if it matches.

    Args:
        payload: A loaded payload written by :func:`with_digest`.

    Returns:
        ``None`` if the stored digest is that of the rest of the payload, else a phrase
        saying that it is missing or differs.

    Example:
        >>> payload = with_digest({"w": torch.zeros(3)})
        >>> digest_problem(payload) is None
        True
        >>> payload["w"][1] = 1.0
        >>> digest_problem(payload)
        'its content does not match the digest stored in it'
    """
    stored = payload.get(DIGEST_KEY)
    if not isinstance(stored, str):
        return "it holds no digest of its content"
    rest = {key: value for key, value in payload.items() if key != DIGEST_KEY}
    try:
        actual = content_digest(rest)
    except TypeError:
        return "it holds a value of a type tinyconv never writes"
    return None if actual == stored else "its content does not match the digest stored in it"


def archive_problem(path: str | os.PathLike[str]) -> str | None:
    """Check every record of a ``torch.save`` zip archive against its stored CRC-32.

    ``torch.load`` skips this check; it is how files written before tinyconv stored a
    digest (model file version 1, checkpoint format 1) are verified.

    Args:
        path: A file written by ``torch.save``.

    Returns:
        ``None`` if every record's bytes match its CRC, else a phrase naming the damage.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "t.pt"
        >>> torch.save({"w": torch.arange(64.0)}, path)
        >>> archive_problem(path) is None
        True
        >>> data = bytearray(path.read_bytes())
        >>> data[data.find(torch.arange(64.0).numpy().tobytes()) + 9] ^= 0xFF
        >>> _ = path.write_bytes(data)
        >>> archive_problem(path)
        "its record 't/data/0' does not match its CRC-32"
    """
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
        return f"its zip archive is damaged ({type(error).__name__}: {error})"
    return None if bad is None else f"its record {bad!r} does not match its CRC-32"


def payload_problem(
    path: str | os.PathLike[str], payload: Mapping[str, Any], *, digest_required: bool
) -> str | None:
    """Check a loaded ``torch.save`` payload: its digest, or else its archive's CRCs.

    Args:
        path: The file it was loaded from.
        payload: The loaded dict.
        digest_required: Whether the file's format version stores a digest (then a missing
            one is damage); formats from before the digest are checked by their archive.

    Returns:
        ``None`` if the file is intact, else a phrase naming the damage.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> path = Path(tempfile.mkdtemp()) / "t.pt"
        >>> torch.save({"w": torch.ones(2)}, path)
        >>> payload_problem(path, {"w": torch.ones(2)}, digest_required=True)
        'it holds no digest of its content'
        >>> payload_problem(path, {"w": torch.ones(2)}, digest_required=False) is None
        True
    """
    if digest_required or DIGEST_KEY in payload:
        return digest_problem(payload)
    return archive_problem(path)


def json_digest(data: Mapping[str, Any]) -> str:
    """Return the SHA-256 digest of JSON data without its :data:`DIGEST_KEY` entry.

    The digest covers the canonical JSON text (sorted keys, no spaces), so it does not
    depend on how the file is indented, and JSON numbers read back to the same text.

    Args:
        data: A JSON object.

    Returns:
        ``"sha256:<64 hex digits>"``.

    Example:
        >>> json_digest({"b": 1, "a": [0.5]}) == json_digest({"a": [0.5], "b": 1})
        True
    """
    rest = {key: value for key, value in data.items() if key != DIGEST_KEY}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return f"sha256:{hashlib.sha256(text.encode()).hexdigest()}"
