"""Augmentations declared as data: frozen specs that round-trip through JSON-able dicts.

A recipe lists its training augmentation as a tuple of specs (``Rotation``,
``Affine``, ``HorizontalFlip``, ``Crop``), each working on any number of channels (the
fill of a rotation or a crop is one grey level in every channel). :func:`make_augmentation`
turns them into one callable ``augment(images, generator)`` for
:class:`~tinyconv.data.TensorLoader`, applying them in order with the loader's seeded
generator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from tinyconv._dataclass_dicts import fields_from_dict
from tinyconv.errors import SpecError

from .augment import RandomAffine, RandomHorizontalFlip, RandomRotation
from .crop import RandomCrop

__all__ = [
    "AUGMENTATIONS",
    "Affine",
    "AugmentSpec",
    "Crop",
    "HorizontalFlip",
    "Rotation",
    "augment_from_dict",
    "make_augmentation",
]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rotation:
    """Random rotation by an angle drawn from ``[-degrees, degrees]``.

    Args:
        degrees: Largest angle, in degrees.
        fill: Value of the uncovered corners on the ``[0, 1]`` pixel scale.

    Example:
        >>> Rotation(degrees=10).to_dict()
        {'kind': 'rotation', 'degrees': 10, 'fill': 0.0}
    """

    kind: ClassVar[str] = "rotation"
    degrees: float
    fill: float = 0.0

    def make(self) -> torch.nn.Module:
        """Return the augmentation module."""
        return RandomRotation(self.degrees, fill=self.fill)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as a JSON-able dict with its ``kind``."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Affine:
    """Random rotation, shift and zoom, like torchvision's ``RandomAffine``.

    Args:
        degrees: Largest rotation angle, in degrees.
        translate: Largest shift as fractions ``(tx, ty)`` of width and height.
        scale: Zoom range ``(min, max)``.
        fill: Value of uncovered pixels on the ``[0, 1]`` scale.

    Example:
        >>> Affine(degrees=0, translate=(0.1, 0.1)).make()
        RandomAffine(degrees=(-0.0, 0.0), translate=(0.1, 0.1), scale=None, fill=0.0, interpolation='nearest')
    """  # noqa: E501

    kind: ClassVar[str] = "affine"
    degrees: float = 0.0
    translate: tuple[float, float] | None = None
    scale: tuple[float, float] | None = None
    fill: float = 0.0

    def make(self) -> torch.nn.Module:
        """Return the augmentation module."""
        return RandomAffine(self.degrees, self.translate, self.scale, fill=self.fill)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as a JSON-able dict with its ``kind``."""
        data = dataclasses.asdict(self)
        for key in ("translate", "scale"):
            data[key] = None if data[key] is None else list(data[key])
        return {"kind": self.kind, **data}


@dataclasses.dataclass(frozen=True, kw_only=True)
class HorizontalFlip:
    """Mirror an image left-right with probability ``p`` (not for digits; fine for clothes).

    Args:
        p: Probability of flipping each image.

    Example:
        >>> HorizontalFlip().to_dict()
        {'kind': 'hflip', 'p': 0.5}
    """

    kind: ClassVar[str] = "hflip"
    p: float = 0.5

    def make(self) -> torch.nn.Module:
        """Return the augmentation module."""
        return RandomHorizontalFlip(self.p)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as a JSON-able dict with its ``kind``."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Crop:
    """Pad by ``padding`` pixels and crop back at a random offset (CIFAR's classic shift).

    Args:
        padding: Pixels added on every side; shifts lie in ``[-padding, padding]``.
        fill: Value of the padded pixels on the ``[0, 1]`` scale.

    Example:
        >>> Crop(padding=4).to_dict()
        {'kind': 'crop', 'padding': 4, 'fill': 0.0}
    """

    kind: ClassVar[str] = "crop"
    padding: int
    fill: float = 0.0

    def make(self) -> torch.nn.Module:
        """Return the augmentation module."""
        return RandomCrop(self.padding, fill=self.fill)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as a JSON-able dict with its ``kind``."""
        return {"kind": self.kind, **dataclasses.asdict(self)}


AugmentSpec = Rotation | Affine | HorizontalFlip | Crop
"""Any one augmentation spec."""

AUGMENTATIONS: dict[str, type[AugmentSpec]] = {
    cls.kind: cls for cls in (Rotation, Affine, HorizontalFlip, Crop)
}
"""Augmentation spec classes by their ``kind`` tag."""


def augment_from_dict(data: Mapping[str, Any]) -> AugmentSpec:
    """Rebuild an augmentation spec from its dict.

    Args:
        data: A dict with a ``kind`` tag and the spec's fields.

    Returns:
        The spec.

    Raises:
        SpecError: For an unknown kind, or an unknown, missing or mistyped field.

    Example:
        >>> augment_from_dict({"kind": "rotation", "degrees": 10, "fill": 0})
        Rotation(degrees=10.0, fill=0.0)
    """
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in AUGMENTATIONS:
        raise SpecError(
            f"unknown augmentation kind {kind!r}; known kinds: {', '.join(sorted(AUGMENTATIONS))}"
        )
    cls = AUGMENTATIONS[kind]
    values = {key: value for key, value in data.items() if key != "kind"}
    spec = cls(**fields_from_dict(cls, values, f"augmentation {kind!r}"))
    try:
        spec.make()  # the module's constructor checks the values
    except ValueError as error:
        raise SpecError(f"augmentation {kind!r}: {error}") from error
    return spec


def make_augmentation(
    specs: Sequence[AugmentSpec],
) -> Callable[[Tensor, torch.Generator | None], Tensor] | None:
    """Turn augmentation specs into one ``augment(images, generator)`` callable.

    Args:
        specs: Applied in order, each drawing from the same generator.

    Returns:
        The callable, or ``None`` when ``specs`` is empty.

    Example:
        >>> augment = make_augmentation([Rotation(degrees=10), HorizontalFlip(p=0.5)])
        >>> augment(torch.rand(3, 1, 28, 28), torch.Generator().manual_seed(0)).shape
        torch.Size([3, 1, 28, 28])
    """
    modules = [spec.make() for spec in specs]
    if not modules:
        return None
    if len(modules) == 1:
        return modules[0]

    def augment(images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        for module in modules:
            images = module(images, generator)
        return images

    return augment
