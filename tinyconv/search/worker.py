"""Workers: processes that join one study by name and run its trials until it has enough.

:func:`run_worker` is one worker: open the storage, join the study, and loop — fail
and re-queue trials of dead workers on this host, stop once the study has
``settings.trials`` finished trials (complete or pruned), else run one trial. While
the last trials run elsewhere it waits (their workers may die and their trials come
back), as long as it can tell whether those workers live.

:func:`run_search` is the ``tinyconv search`` command: it creates (or joins, checking
it) the study, then runs ``workers`` worker processes with the CPU threads divided
between them, or one worker in-process. The same command on another machine, with the
same RDB storage URL and study name, adds its workers to the same study: Optuna's
storage is the only coordinator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool

import optuna
from optuna.trial import TrialState

from tinyconv.errors import TinyconvError
from tinyconv.search.errors import SearchError, SettingsError
from tinyconv.search.liveness import process_alive, reap_dead_trials, worker_identity
from tinyconv.search.objective import Objective, SurplusTrialError, check_budget_reachable
from tinyconv.search.settings import SearchSettings
from tinyconv.search.shared_study import open_study, trial_counts
from tinyconv.search.storage import open_storage, quiet_experimental
from tinyconv.workers import process_pool, split_threads

__all__ = ["run_search", "run_worker"]

_POLL_S = 1.0
"""Seconds between looks at the study while the last trials run in other workers."""


def _others_watchable(study: optuna.Study) -> bool:
    """Whether every RUNNING trial's fate will be known (a local worker, or a heartbeat)."""
    from optuna.storages._heartbeat import is_heartbeat_enabled

    if is_heartbeat_enabled(study._storage):
        return True
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        if not isinstance(worker, dict) or process_alive(worker) is None:
            return False
    return True


def run_worker(
    settings: SearchSettings,
    worker_index: int = 0,
    log: Callable[[str], None] | None = None,
) -> int:
    """Run trials of the shared study until it has ``settings.trials`` finished trials.

    With ``settings.time_limit_s`` the worker also stops, between trials, once that many
    seconds have passed since it started; running the command again continues the study.

    Args:
        settings: The search settings.
        worker_index: This worker's number (offsets the sampler seed; labels its lines).
        log: Receives one line per event (default: print to stdout, labelled).

    Returns:
        How many trials this worker finished (complete or pruned).

    Raises:
        SpaceError: If the space fails or yields a model that cannot be built.
        StudyMismatchError: If the study belongs to another search.
        UnknownStorageError: If the storage cannot be opened.
    """
    if log is None:

        def log(line: str) -> None:
            print(f"[worker {worker_index}] {line}", flush=True)

    if settings.threads is not None:
        import torch

        torch.set_num_threads(settings.threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = open_storage(settings.storage, settings.out)
    study = open_study(settings, storage, worker_index=worker_index)
    objective = Objective(settings, log=log)
    started = time.monotonic()
    while True:
        reap_dead_trials(study, log)
        with quiet_experimental():
            optuna.storages.fail_stale_trials(study)  # RDB heartbeat; nothing for a journal
        counts = trial_counts(study)
        done = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED]
        if done >= settings.trials:
            break
        running, waiting = counts[TrialState.RUNNING], counts[TrialState.WAITING]
        if done + running >= settings.trials and waiting == 0:
            if not _others_watchable(study):
                log(f"{running} last trial(s) run on other machines; this worker stops")
                break
            time.sleep(_POLL_S)  # they may still fail and come back as WAITING
            continue
        limit = settings.time_limit_s
        if limit is not None and time.monotonic() - started >= limit:
            log(f"time limit of {limit:g} s reached; this worker stops")
            break
        study.optimize(objective, n_trials=1, catch=(SurplusTrialError,), gc_after_trial=False)
    me, finished = worker_identity(), (TrialState.COMPLETE, TrialState.PRUNED)
    trials = study.get_trials(deepcopy=False, states=finished)
    return sum(1 for trial in trials if trial.user_attrs.get("worker") == me)


def run_search(
    settings: SearchSettings, workers: int = 1, log: Callable[[str], None] = print
) -> optuna.Study:
    """Create or join the study, then run ``workers`` workers on this machine.

    With ``workers > 1`` each worker is a separate process of
    :func:`tinyconv.workers.process_pool` (spawned, so nothing of this one is shared)
    with ``split_threads(workers, settings.threads)`` torch threads; with one worker it
    runs here with ``settings.threads`` threads. A worker's error is raised here.

    Args:
        settings: The search settings (``threads``: all threads to share out).
        workers: Worker processes on this machine.
        log: Receives progress lines.

    Returns:
        The study, after the workers stopped.

    Raises:
        SettingsError: If ``workers`` is below 1, or no model of the space meets the budget.
        SearchError: If a worker process died.
        StudyMismatchError: If the study belongs to another search.
        UnknownStorageError: If the storage cannot be opened.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SettingsError(f"workers must be an int >= 1, got {workers!r}")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    check_budget_reachable(settings)  # before any storage is created
    storage = open_storage(settings.storage, settings.out)
    open_study(settings, storage)  # create it once, and refuse a mismatch before any worker
    if workers == 1:
        run_worker(settings, 0)
    else:
        each = settings.replace(threads=split_threads(workers, settings.threads))
        log(f"{workers} worker processes, {each.threads} torch thread(s) each")
        with process_pool(workers, each.threads) as pool:
            futures = [pool.submit(run_worker, each, i) for i in range(workers)]
            errors = []
            for future in futures:
                try:
                    future.result()
                except BrokenProcessPool as error:
                    errors.append(SearchError(f"a worker process died ({error})"))
                except TinyconvError as error:
                    errors.append(error)
            if errors:
                raise errors[0]
    return open_study(settings, storage, create=False)
