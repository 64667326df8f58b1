"""Argument checks shared by blocks and specs, each raising a precise ``ValueError``."""

from __future__ import annotations


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is a positive ``int``, else raise ``ValueError``.

    Args:
        name: What the value is, used in the message (for example ``"out_channels"``).
        value: The value to check.

    Returns:
        The value, unchanged.

    Raises:
        ValueError: If ``value`` is not an ``int`` greater than zero.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def check_non_negative_int(name: str, value: object) -> int:
    """Return ``value`` if it is an ``int`` of at least zero, else raise ``ValueError``.

    Args:
        name: What the value is, used in the message (for example ``"padding"``).
        value: The value to check.

    Returns:
        The value, unchanged.

    Raises:
        ValueError: If ``value`` is not an ``int`` (or is a ``bool``) or is negative.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) of at least ``minimum``.

    Args:
        name: What the value is, used in the message (for example ``"batch_size"``).
        value: The value to check.
        minimum: The smallest allowed value.

    Returns:
        The value, unchanged.

    Raises:
        ValueError: If ``value`` is not an ``int`` or is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_probability(name: str, value: float) -> float:
    """Return ``value`` if it lies in ``[0, 1)``, else raise ``ValueError``.

    Args:
        name: What the value is, used in the message (for example ``"dropout"``).
        value: The value to check.

    Returns:
        The value as a float.

    Raises:
        ValueError: If ``value`` is outside ``[0, 1)``.
    """
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return float(value)
