"""The version of tinyconv: one place, read by the package and by every provenance record."""

__version__ = "0.1.0"
