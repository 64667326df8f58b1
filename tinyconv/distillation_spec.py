"""``DistillationSpec``: which teacher a student learns from, and how strongly, as data.

Kept apart from the callback (:mod:`tinyconv.compress.distill`) and free of torch, beside
the recipe that holds one (and round-trips it through JSON): the recipe, in the experiment
layer, never imports the compression package. ``tinyconv.compress.DistillationSpec`` is
this class.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinyconv.errors import SpecError

__all__ = ["DISTILLATION_FORMAT_VERSION", "DistillationSpec"]

DISTILLATION_FORMAT_VERSION = 1
"""Version of the dict layout of :meth:`DistillationSpec.to_dict`."""


@dataclass(frozen=True, kw_only=True)
class DistillationSpec:
    """Which teacher to learn from, and how strongly.

    Args:
        teacher: Path of the teacher's model file (written by :func:`tinyconv.save`).
        weight: Factor of the distillation term, ``>= 0`` (``0`` computes it but adds
            nothing: the run trains exactly as without a teacher).
        temperature: Softening temperature ``T > 0`` of both outputs.

    Raises:
        SpecError: For an empty teacher path, a negative or non-finite weight, or a
            temperature that is not a positive finite number.

    Example:
        >>> spec = DistillationSpec(teacher="teacher.model.pt", weight=0.5, temperature=4.0)
        >>> DistillationSpec.from_dict(spec.to_dict()) == spec
        True
        >>> DistillationSpec(teacher="t.pt", temperature=0)
        Traceback (most recent call last):
        ...
        tinyconv.errors.SpecError: DistillationSpec.temperature must be a positive finite number, got 0
    """  # noqa: E501

    teacher: str
    weight: float = 1.0
    temperature: float = 4.0

    def __post_init__(self) -> None:
        if not isinstance(self.teacher, str) or not self.teacher:
            raise SpecError(
                f"DistillationSpec.teacher must be a model file path, got {self.teacher!r}"
            )
        if not _is_number(self.weight) or self.weight < 0:
            raise SpecError(
                f"DistillationSpec.weight must be a finite number >= 0, got {self.weight!r}"
            )
        if not _is_number(self.temperature) or self.temperature <= 0:
            raise SpecError(
                "DistillationSpec.temperature must be a positive finite number, got "
                f"{self.temperature!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as JSON-able data (with a format version)."""
        return {
            "version": DISTILLATION_FORMAT_VERSION,
            "teacher": self.teacher,
            "weight": self.weight,
            "temperature": self.temperature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistillationSpec:
        """Rebuild a spec from :meth:`to_dict` output (or hand-written JSON).

        Args:
            data: ``teacher`` and optionally ``weight``, ``temperature`` and ``version``.

        Returns:
            The spec.

        Raises:
            SpecError: For a wrong version, unknown or missing keys, or bad values.
        """
        if not isinstance(data, Mapping):
            raise SpecError(f"a distillation spec must be a dict, got {type(data).__name__}")
        version = data.get("version", DISTILLATION_FORMAT_VERSION)
        if version != DISTILLATION_FORMAT_VERSION:
            raise SpecError(
                f"distillation spec version {version!r} is not supported; this tinyconv "
                f"reads version {DISTILLATION_FORMAT_VERSION}"
            )
        known = {"version", "teacher", "weight", "temperature"}
        unknown = sorted(set(data) - known)
        if unknown or "teacher" not in data:
            problem = f"unknown keys {unknown}" if unknown else "no 'teacher'"
            raise SpecError(f"distillation spec has {problem}; known keys: {sorted(known)}")
        values = {key: data[key] for key in ("teacher", "weight", "temperature") if key in data}
        return cls(**values)


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
