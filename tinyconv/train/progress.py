"""What a training run shows while it trains: a bar on a terminal, a line per epoch elsewhere.

``TrainConfig.progress`` decides: ``None`` shows a tqdm bar when stderr is a terminal and one
line per epoch when it is not (a log file, a pipe), ``"lines"`` always shows the lines (worker
processes sharing a terminal), ``True`` always shows the bar, ``False`` shows nothing. The
bar carries the running loss, then the epoch's metrics (evaluation accuracy included) and
the time left in the run; the lines carry the same. A ``label`` (for example
``"seed 2 (3 of 5)"``) prefixes both, so a study says which seed an epoch belongs to.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from typing import Any

from tinyconv.train.history import EpochRecord


def describe(record: EpochRecord) -> str:
    """One epoch's metrics, learning rate, speed and time on one line.

    Args:
        record: The finished epoch.

    Returns:
        ``"train_loss=... val_acc=... lr=... N img/s T s"``.

    Example:
        >>> print(describe(EpochRecord(1, 0.5, 0.9, None, None, None, 0.01, 2.0, 500.0)))
        train_loss=0.5000 train_acc=0.9000 lr=0.01 500 img/s 2.0s
    """
    metrics = " ".join(f"{name}={value:.4f}" for name, value in record.metrics().items())
    return f"{metrics} lr={record.lr:.3g} {record.images_per_sec:.0f} img/s {record.seconds:.1f}s"


def format_duration(seconds: float) -> str:
    """A duration as a person reads it.

    Args:
        seconds: The duration.

    Returns:
        ``"42 s"``, ``"7 min"`` or ``"1.5 h"``.

    Example:
        >>> format_duration(42.4), format_duration(420), format_duration(5400)
        ('42 s', '7 min', '1.5 h')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def format_count(count: int, noun: str) -> str:
    """A count with its noun, plural where it should be.

    Args:
        count: How many.
        noun: The singular noun.

    Returns:
        ``"1 epoch"``, ``"15 epochs"``, ``"2,000 images"``.

    Example:
        >>> format_count(1, "epoch"), format_count(15, "epoch"), format_count(2000, "image")
        ('1 epoch', '15 epochs', '2,000 images')
    """
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


class Progress:
    """A run's progress display: a tqdm bar, one line per epoch on stderr, or nothing.

    Args:
        setting: ``TrainConfig.progress`` (``None``: bar on a terminal, lines elsewhere;
            ``"lines"``: lines; ``True``: bar; ``False``: nothing).
        label: Prefix of the bar and the lines, e.g. ``"seed 2 of 5"``; empty for none.

    Example:
        >>> progress = Progress(False)
        >>> list(progress.bar([1, 2], steps=2, desc="epoch 1/1"))
        [1, 2]
    """

    def __init__(self, setting: bool | str | None, label: str = "") -> None:
        terminal = sys.stderr.isatty()
        self.use_bar = setting is True or (setting is None and terminal)
        self.use_lines = setting == "lines" or (setting is None and not terminal)
        self.label = f"{label}: " if label else ""
        self._epoch_seconds: list[float] = []

    def bar(self, loader: Iterable[Any], steps: int, desc: str = "", *, show: bool = True) -> Any:
        """Wrap ``loader`` in a tqdm bar (hidden unless this display and ``show`` want one).

        Every loader of a run goes through this wrapper, shown or not: tqdm's constructor
        calls ``iter()`` on its iterable once more, so a loader whose order follows its
        epoch (``TensorLoader``) serves the same batches whichever way it is wrapped.

        Args:
            loader: The training batches.
            steps: Batches per epoch.
            desc: The bar's text.
            show: ``False`` keeps this bar hidden (the extra loaders of stacked seeds).

        Returns:
            The wrapped loader.
        """
        from tqdm.auto import tqdm

        # A pseudo-terminal may report a 0x0 size, and tqdm then hides every bar (it thinks
        # there is no room); shutil falls back to 80x24 where the size is unknown.
        columns, rows = shutil.get_terminal_size()
        return tqdm(
            loader,
            total=steps,
            desc=self.label + desc,
            disable=not (self.use_bar and show),
            ncols=columns,
            nrows=rows,
        )

    def epoch_done(self, bar: Any, records: list[EpochRecord], epochs: int) -> None:
        """Show a finished epoch: its metrics on the bar (then closed) or as one line.

        Args:
            bar: The epoch's bar from :meth:`bar`.
            records: The epoch's record of every trained model (one, or one per stacked
                seed: their evaluation accuracies are listed).
            epochs: The run's epochs.
        """
        first = records[0]
        if len(records) == 1:
            text = describe(first)
        else:
            scored = " ".join(f"{record.eval_acc or 0:.4f}" for record in records)
            text = (
                f"{first.eval_name or 'eval'}_acc {scored} ({len(records)} x "
                f"{first.images_per_sec:.0f} img/s, {first.seconds:.1f}s)"
            )
        self._epoch_seconds.append(first.seconds)
        if first.epoch < epochs:
            mean = sum(self._epoch_seconds) / len(self._epoch_seconds)
            text += f", ~{format_duration(mean * (epochs - first.epoch))} left"
        bar.close()  # its iteration closed it already, showing the running loss
        line = f"{self.label}epoch {first.epoch}/{epochs} {text}"
        if self.use_bar:  # under the finished bar: the epoch's scores stay on the terminal
            from tqdm.auto import tqdm

            tqdm.write(line, file=sys.stderr)
        elif self.use_lines:
            print(line, file=sys.stderr, flush=True)
