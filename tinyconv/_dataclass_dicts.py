"""Frozen dataclasses of plain values from JSON-able dicts, with errors that name the field.

Specs, augmentations and recipes are all keyword-only dataclasses whose fields hold
ints, floats, bools, strings, ``None`` and tuples of those. :func:`fields_from_dict`
checks a dict against such a class (unknown, missing and mistyped fields) before the
class's own checks run; JSON lists become tuples and JSON ints become floats where a
field is a float, so a round trip gives back an equal object.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from types import NoneType, UnionType
from typing import Any

from tinyconv.errors import SpecError


def _convert(annotation: Any, value: Any) -> tuple[bool, Any]:
    """Return ``(fits, converted value)`` for a JSON value and a field annotation."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, UnionType) or origin is typing.Union:
        for option in typing.get_args(annotation):
            fits, converted = _convert(option, value)
            if fits:
                return True, converted
        return False, value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            return False, value
        args = typing.get_args(annotation)
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            return False, value
        converted = [_convert(item, element) for item, element in zip(items, value, strict=True)]
        return all(ok for ok, _ in converted), tuple(element for _, element in converted)
    if annotation is NoneType:
        return value is None, value
    if annotation is bool:
        return isinstance(value, bool), value
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if annotation is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if annotation is str:
        return isinstance(value, str), value
    return False, value


def fields_from_dict(cls: type, data: Mapping[str, Any], label: str) -> dict[str, Any]:
    """Check ``data`` against the fields of dataclass ``cls`` and return constructor kwargs.

    Args:
        cls: A dataclass whose fields are plain values (see the module docstring).
        data: Field names mapped to JSON values; keys ``ignore``d by the caller must be
            removed first. Omitted fields take their defaults.
        label: How to name the class in messages, e.g. ``"kind 'conv' (ConvSpec)"``.

    Returns:
        Keyword arguments for ``cls``, with lists turned into tuples and ints into floats
        where the field says so.

    Raises:
        SpecError: For an unknown field (naming the known ones), a missing field
            without a default, or a value of the wrong type.

    Example:
        >>> @dataclasses.dataclass(frozen=True, kw_only=True)
        ... class Point:
        ...     x: float
        ...     tag: str | None = None
        >>> fields_from_dict(Point, {"x": 1}, "Point")
        {'x': 1.0}
        >>> fields_from_dict(Point, {"y": 1}, "Point")
        Traceback (most recent call last):
        ...
        tinyconv.errors.SpecError: unknown field 'y' for Point; known fields: x, tag
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"{label} must be given as a dict, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise SpecError(f"unknown field {key!r} for {label}; known fields: {', '.join(fields)}")
        fits, converted = _convert(hints[key], value)
        if not fits:
            raise SpecError(f"field {key!r} of {label} must be {hints[key]}, got {value!r}")
        values[key] = converted
    for name, field in fields.items():
        no_default = field.default is dataclasses.MISSING
        if name not in values and no_default and field.default_factory is dataclasses.MISSING:
            raise SpecError(f"missing field {name!r} for {label}; it has no default")
    return values
