"""A study's seeds as one process sees them: finished, claimed by it, or someone else's.

:class:`StudyLedger` is the claim and record half of :func:`tinyconv.study.run_study`
(claim -> train -> record): :meth:`~StudyLedger.claim` says whether this process should
train a seed (not finished in the results file, not trained by another process; it then
holds the seed's claim, :mod:`tinyconv.study.claims`), and :meth:`~StudyLedger.record`
saves a finished seed (model file, history CSV, its record, the rebuilt results file) and
lets go of its claim. :class:`TimeLeft` turns finished seeds into the lines that say how
long the study (and the job) has left.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from tinyconv.model_file import save
from tinyconv.provenance import PROVENANCE_KEY, describe_origin, provenance
from tinyconv.recipe import Recipe
from tinyconv.study.claims import FileLock, claim_holder, claim_seed
from tinyconv.study.results import (
    check_sizes,
    load_study,
    results_path,
    seed_paths,
    write_seed_record,
)
from tinyconv.train import History
from tinyconv.train.progress import format_duration

__all__ = ["StudyLedger", "TimeLeft"]


class StudyLedger:
    """Which seeds of a study this process trains, and the saving of each finished one.

    Args:
        recipe: The study's recipe (its name and setting key the results file).
        out_dir: Folder of the results file.
        sizes: ``{"train_samples": N, "test_samples": M}`` of the data it trains on.
        say: Called with a line for each seed skipped, and why.

    Attributes:
        data: The results file's content as last read or written.

    Raises:
        ResultsMismatchError: If the results file belongs to another setting or sizes.
        ResultsFileError: If the results file or a seed record is damaged.
    """

    def __init__(
        self,
        recipe: Recipe,
        out_dir: str | os.PathLike[str],
        sizes: dict[str, int],
        say: Callable[[str], None],
    ) -> None:
        self.recipe, self.out_dir, self.say = recipe, out_dir, say
        self.path = results_path(out_dir, recipe)
        self.data = self._reload()
        check_sizes(self.path, self.data, sizes)
        self._claims: dict[int, FileLock] = {}
        self._skipped: set[int] = set()

    def _reload(self) -> dict[str, Any]:
        return load_study(self.path, self.recipe.to_dict(), self.recipe.train.epochs)

    def finished(self, seed: int) -> bool:
        """Whether the results file holds ``seed``."""
        return str(seed) in self.data["seeds"]

    def claim(self, seed: int) -> bool:
        """Claim ``seed`` for this process: ``True`` if it should train it.

        A finished seed, or one another process is training, is skipped (said once);
        asking again for a seed this process holds answers ``True``.
        """
        if seed in self._claims or seed in self._skipped:
            return seed in self._claims
        self._skipped.add(seed)
        if not self.finished(seed):
            claim_file = seed_paths(self.out_dir, self.recipe, seed)["claim"]
            claim = claim_seed(claim_file)
            if claim is None:
                self.say(f"seed {seed}: being trained by {claim_holder(claim_file)}, skipped")
                return False
            self._claims[seed] = claim
            self._skipped.discard(seed)
            self.data = self._reload()  # finished by another process since we last read?
            if not self.finished(seed):
                return True
            self._claims.pop(seed).release()
            self._skipped.add(seed)
        origin = describe_origin(self.data["seeds"][str(seed)])
        self.say(f"seed {seed}: already finished {origin}, skipped")
        return False

    def claimed(self, seeds: Iterable[int]) -> list[int]:
        """The seeds of ``seeds`` this process claims, in order."""
        return [seed for seed in seeds if self.claim(seed)]

    def record(self, result: dict[str, Any], model: Any) -> None:
        """Save a finished seed: model file, history CSV, its record, the results file.

        Its checkpoint is removed (the model file and the results hold the seed) and its
        claim released.

        Args:
            result: The seed's record (:func:`~tinyconv.study.records.seed_record`);
                provenance is added here.
            model: The trained model.
        """
        seed = result["seed"]
        paths = seed_paths(self.out_dir, self.recipe, seed)
        result[PROVENANCE_KEY] = provenance()
        save(model, paths["model"], overwrite=True)
        History.from_list(result["history"]).to_csv(paths["csv"])
        self.data = write_seed_record(self.path, self.data, result)
        paths["checkpoint"].unlink(missing_ok=True)
        claim = self._claims.pop(seed, None)
        if claim is not None:
            claim.release()

    def release(self) -> None:
        """Let go of every claim still held (a seed that did not finish)."""
        for claim in self._claims.values():
            claim.release()
        self._claims.clear()


class TimeLeft:
    """The time a study (and the job it is part of) has left, from the seeds it finished.

    Args:
        say: Called with the lines.
        seeds_after: Seeds later studies of the same job will train.
    """

    def __init__(self, say: Callable[[str], None], seeds_after: int = 0) -> None:
        self.say, self.seeds_after = say, seeds_after
        self.started, self.trained = time.perf_counter(), 0

    def seed_finished(self, left: int) -> None:
        """Count one more finished seed; say the time left for ``left`` more."""
        self.trained += 1
        per_seed = (time.perf_counter() - self.started) / self.trained
        if left:
            self.say(
                f"study: about {format_duration(per_seed * left)} left for {left} more seed(s)"
            )
        if self.seeds_after:
            job = left + self.seeds_after
            self.say(
                f"job: about {format_duration(per_seed * job)} left for {job} more seed(s), "
                f"{self.seeds_after} of them in the studies after this one"
            )
