"""``EpochRecord`` and ``History``: what each epoch measured, saved as JSON or CSV.

A record's metrics are named ``train_loss``, ``train_acc``, and ``<eval_name>_loss`` /
``<eval_name>_acc`` for the evaluated set (``val_loss``, ``test_acc``, ...); ``History.best``
and ``EarlyStopping`` use these names. Files are written atomically.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from tinyconv.atomic import atomic_write


@dataclass(frozen=True)
class EpochRecord:
    """Measurements of one finished epoch.

    Attributes:
        epoch: 1-based epoch number.
        train_loss: Mean training loss over the epoch's samples (with label smoothing).
        train_acc: Training accuracy in ``[0, 1]``, measured during the epoch.
        eval_loss: Mean cross-entropy on the evaluated set, or ``None`` if none.
        eval_acc: Accuracy on the evaluated set, or ``None``.
        eval_name: Name of the evaluated set (``"val"``, ``"test"``) or ``None``.
        lr: Learning rate of the first parameter group when the epoch started.
        seconds: Wall time of the whole epoch, evaluation included.
        images_per_sec: Training throughput (training samples / training seconds).

    Example:
        >>> record = EpochRecord(epoch=1, train_loss=0.5, train_acc=0.9, eval_loss=0.4,
        ...     eval_acc=0.92, eval_name="val", lr=0.1, seconds=3.0, images_per_sec=2e4)
        >>> record.metrics()
        {'train_loss': 0.5, 'train_acc': 0.9, 'val_loss': 0.4, 'val_acc': 0.92}
    """

    epoch: int
    train_loss: float
    train_acc: float
    eval_loss: float | None
    eval_acc: float | None
    eval_name: str | None
    lr: float
    seconds: float
    images_per_sec: float

    def metrics(self) -> dict[str, float]:
        """Return the named metrics, e.g. ``{"train_loss": .., "val_acc": ..}``."""
        named = {"train_loss": self.train_loss, "train_acc": self.train_acc}
        if self.eval_name is not None and self.eval_loss is not None:
            named[f"{self.eval_name}_loss"] = self.eval_loss
        if self.eval_name is not None and self.eval_acc is not None:
            named[f"{self.eval_name}_acc"] = self.eval_acc
        return named

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EpochRecord:
        """Build a record from ``to_dict`` output.

        Raises:
            ValueError: If fields are missing or unknown.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        if set(data) != set(names):
            raise ValueError(
                f"EpochRecord needs exactly the fields {names}; missing "
                f"{sorted(set(names) - set(data))}, unknown {sorted(set(data) - set(names))}"
            )
        return cls(**data)


def is_loss(metric: str) -> bool:
    """Return True for metrics where lower is better (names ending in ``_loss``)."""
    return metric.endswith("_loss")


@dataclass
class History:
    """The list of ``EpochRecord`` of a run, in epoch order.

    Args:
        records: The records so far, oldest first (empty by default).

    Example:
        >>> history = History()
        >>> for epoch, loss in enumerate([0.9, 0.5, 0.7], start=1):
        ...     history.append(EpochRecord(epoch, 1.0, 0.5, loss, 0.8, "val", 0.1, 2.0, 500.0))
        >>> len(history), history.best("val_loss").epoch, history.final.eval_loss
        (3, 2, 0.7)
    """

    records: list[EpochRecord] = field(default_factory=list)

    def append(self, record: EpochRecord) -> None:
        """Add the record of the epoch that just finished."""
        self.records.append(record)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[EpochRecord]:
        return iter(self.records)

    @overload
    def __getitem__(self, index: int) -> EpochRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[EpochRecord]: ...
    def __getitem__(self, index: int | slice) -> EpochRecord | list[EpochRecord]:
        return self.records[index]

    @property
    def final(self) -> EpochRecord:
        """The last record.

        Raises:
            ValueError: If no epoch has been recorded.
        """
        if not self.records:
            raise ValueError("History is empty: no epoch has been recorded yet")
        return self.records[-1]

    def best(self, metric: str) -> EpochRecord:
        """Return the record with the best value of ``metric`` (lowest loss, highest accuracy).

        Ties go to the earliest epoch.

        Args:
            metric: A metric name such as ``"train_loss"``, ``"val_acc"`` or ``"test_loss"``.

        Returns:
            The best record.

        Raises:
            ValueError: If no record has ``metric``.
        """
        candidates = [r for r in self.records if not math.isnan(r.metrics().get(metric, math.nan))]
        if not candidates:
            available = sorted({name for r in self.records for name in r.metrics()})
            raise ValueError(
                f"no epoch recorded metric {metric!r}; available metrics: {available or 'none'}"
            )
        sign = 1.0 if is_loss(metric) else -1.0
        return min(candidates, key=lambda r: sign * r.metrics()[metric])

    def to_list(self) -> list[dict[str, Any]]:
        """Return the records as a list of plain dicts."""
        return [record.to_dict() for record in self.records]

    @classmethod
    def from_list(cls, rows: list[Mapping[str, Any]]) -> History:
        """Build a history from ``to_list`` output."""
        return cls([EpochRecord.from_dict(row) for row in rows])

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the records as a JSON list of objects, atomically; return the path."""
        text = json.dumps(self.to_list(), indent=2) + "\n"
        return atomic_write(path, lambda file: file.write(text.encode()))

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> History:
        """Read a history written by ``to_json``.

        Raises:
            FileNotFoundError: If ``path`` does not exist.
            ValueError: If the file is not a JSON list of records.
        """
        try:
            rows = json.loads(Path(path).read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f"{str(path)!r} is not valid JSON: {error}") from error
        if not isinstance(rows, list):
            raise ValueError(
                f"{str(path)!r} must hold a JSON list of epoch records, got {type(rows).__name__}"
            )
        return cls.from_list(rows)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write one row per epoch (``None`` as an empty cell), atomically; return the path."""
        names = [f.name for f in dataclasses.fields(EpochRecord)]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.to_list())
        return atomic_write(path, lambda file: file.write(buffer.getvalue().encode()))

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str]) -> History:
        """Read a history written by ``to_csv``.

        Raises:
            FileNotFoundError: If ``path`` does not exist.
            ValueError: If a column is missing or a cell does not parse.
        """
        with open(path, newline="") as file:
            rows = list(csv.DictReader(file))
        return cls([_record_from_csv_row(row) for row in rows])


def _record_from_csv_row(row: Mapping[str, str]) -> EpochRecord:
    def number(name: str) -> float | None:
        return None if row[name] == "" else float(row[name])

    try:
        return EpochRecord(
            epoch=int(row["epoch"]),
            train_loss=float(row["train_loss"]),
            train_acc=float(row["train_acc"]),
            eval_loss=number("eval_loss"),
            eval_acc=number("eval_acc"),
            eval_name=row["eval_name"] or None,
            lr=float(row["lr"]),
            seconds=float(row["seconds"]),
            images_per_sec=float(row["images_per_sec"]),
        )
    except (KeyError, ValueError) as error:
        raise ValueError(f"bad history CSV row {dict(row)}: {error!r}") from error
