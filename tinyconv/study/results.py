"""The results file of a study: where it lives, its format, reading, writing and aggregating.

A study of recipe ``NAME`` in folder ``OUT`` keeps ``OUT/NAME.json`` (the recipe, the epoch
count and a ``seeds`` table of per-seed results) and, per seed, files in ``OUT/NAME/``: the
record of the finished seed (``seed<N>.json``, written only by the process that trained
it), the model file, the history CSV, an in-progress checkpoint and a claim while a process
trains it (see :mod:`tinyconv.study.claims`). ``NAME.json`` is rebuilt from the seed
records as each seed finishes, and :func:`load_results` merges any seed record it does not
hold yet, so two processes sharing a folder never lose each other's seeds.

Since format version 2 every file carries a SHA-256 digest of its content: a truncated or
edited file is refused with :class:`ResultsFileError`, naming the file and the fix. Files
written before (version 1, no ``format`` entry) are read as they are.
:mod:`tinyconv.study.seed_stats` reduces a results file to the figures a reviewer trusts.
(A little over 300 lines: the format, its reading, writing and merging, and the checks of
which runs may share a file are one concept, each part needing the others.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tinyconv._digest import DIGEST_KEY, json_digest
from tinyconv.atomic import atomic_write
from tinyconv.errors import ResultsMismatchError, TinyconvError

DEFAULT_OUT_DIR = "runs"
"""Where a study writes by default: a folder that holds no committed results."""

RESULTS_FORMAT = "tinyconv.results"
SEED_RECORD_FORMAT = "tinyconv.seed_result"
RESULTS_VERSION = 2


class ResultsFileError(TinyconvError, ValueError):
    """A results file is missing, truncated, edited after it was written, or not one.

    Example:
        >>> issubclass(ResultsFileError, ValueError)
        True
    """


def results_path(out_dir: str | os.PathLike[str], recipe: Any) -> Path:
    """Return where the results of ``recipe`` are kept.

    Args:
        out_dir: Folder of the results files.
        recipe: The recipe (anything with a ``name``).

    Returns:
        ``<out_dir>/<recipe.name>.json``.

    Example:
        >>> from types import SimpleNamespace
        >>> results_path("runs", SimpleNamespace(name="v9")).as_posix()
        'runs/v9.json'
    """
    return Path(out_dir) / f"{recipe.name}.json"


def seed_paths(out_dir: str | os.PathLike[str], recipe: Any, seed: int) -> dict[str, Path]:
    """Return where one seed's files are kept.

    Args:
        out_dir: Folder of the results files.
        recipe: The recipe (anything with a ``name``).
        seed: The seed.

    Returns:
        ``record`` (the finished seed's results), ``model``, ``csv`` (its history),
        ``checkpoint`` and ``claim`` paths under ``<out_dir>/<recipe.name>/``.

    Example:
        >>> from types import SimpleNamespace
        >>> seed_paths("runs", SimpleNamespace(name="v9"), 2)["model"].as_posix()
        'runs/v9/seed2.model.pt'
    """
    folder = Path(out_dir) / recipe.name
    names = {"record": "json", "model": "model.pt", "csv": "csv", "checkpoint": "ckpt"}
    paths = {key: folder / f"seed{seed}.{suffix}" for key, suffix in names.items()}
    return {**paths, "claim": folder / f"seed{seed}.lock"}


def _read_json(path: Path, expected: str) -> dict[str, Any]:
    """Read one results or seed-record file and check its digest."""
    fix = "restore it from a good copy (git checkout, a backup), or delete it to run again"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ResultsFileError(
            f"{str(path)!r} is not valid JSON ({error}): it is truncated or damaged; {fix}"
        ) from error
    if not isinstance(data, dict):
        raise ResultsFileError(f"{str(path)!r} is not a tinyconv results file; {fix}")
    legacy = not {"format", "version", DIGEST_KEY} & data.keys()
    if legacy and expected == RESULTS_FORMAT:
        if not isinstance(data.get("seeds"), dict):
            raise ResultsFileError(
                f"{str(path)!r} is not a tinyconv results file (no 'seeds' table); point to "
                "a <recipe>.json written by tinyconv study"
            )
        return data  # version 1, written before results files had a digest
    if data.get("format") != expected or data.get("version") != RESULTS_VERSION:
        raise ResultsFileError(
            f"{str(path)!r} is not a {expected} file of version {RESULTS_VERSION} (found "
            f"{data.get('format')!r} version {data.get('version')!r}); {fix}"
        )
    if data.get(DIGEST_KEY) != json_digest(data):
        raise ResultsFileError(
            f"{str(path)!r} was changed after it was written (its content does not match "
            f"the digest stored in it): truncated, damaged or edited by hand; {fix}"
        )
    del data[DIGEST_KEY]
    return data


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({**data, DIGEST_KEY: json_digest(data)}, indent=1) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode()))


def seed_records(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read the records of finished seeds kept beside a results file.

    Args:
        path: The results file ``<out>/<name>.json`` (it need not exist yet).

    Returns:
        ``{setting, result}`` per seed (as a string), from ``<out>/<name>/seed*.json``.

    Raises:
        ResultsFileError: If a record is damaged.
    """
    folder = Path(path).with_suffix("")
    records = {}
    for file in sorted(folder.glob("seed*.json")):
        record = _read_json(file, SEED_RECORD_FORMAT)
        records[str(record["result"]["seed"])] = {**record, "path": file}
    return records


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a results file, with the seeds finished since it was last rebuilt.

    Args:
        path: The ``<recipe>.json`` file written by :func:`~tinyconv.study.run_study`.

    Returns:
        Its content: ``recipe``, ``epochs`` and a ``seeds`` table of per-seed results
        (with ``format`` and ``version`` for files of version 2).

    Raises:
        ResultsFileError: If the file is missing, not a results file, or damaged
            (truncated, or edited after it was written), or a seed record beside it is.
        ResultsMismatchError: If a seed record beside it belongs to another setting.

    Example:
        >>> sorted(load_results("results/mnist_v5.json")["seeds"], key=int)
        ['0', '1', '2', '3', '4']
    """
    source = Path(path)
    if not source.is_file():
        raise ResultsFileError(f"no results file at {str(source)!r}; check the path")
    return _with_records(source, _read_json(source, RESULTS_FORMAT))


def _with_records(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """Add the seed records beside ``path`` that ``data`` does not hold yet."""
    for seed, record in seed_records(path).items():
        check_setting(path, data, record["recipe"], record["epochs"], where=record["path"])
        data["seeds"].setdefault(seed, record["result"])
    return data


def load_study(path: Path, recipe_dict: Mapping[str, Any], epochs: int) -> dict[str, Any]:
    """Return the results so far of a study about to run (empty if there are none).

    Args:
        path: The results file (it need not exist).
        recipe_dict: The recipe as it runs.
        epochs: Its epoch count.

    Returns:
        The content of the results file and the seed records beside it, or of a new one.

    Raises:
        ResultsMismatchError: If they belong to another recipe or epoch count.
        ResultsFileError: If the file or a seed record is damaged.
    """
    if path.exists():
        data = load_results(path)
    else:
        data = _with_records(path, new_results(recipe_dict, epochs))
    check_setting(path, data, recipe_dict, epochs)
    return data


def is_results_file(path: str | os.PathLike[str]) -> bool:
    """Whether a JSON file is a results file (not, say, a recipe saved beside one).

    A file that is not valid JSON counts as one, so that loading it reports the damage.

    Example:
        >>> is_results_file("results/mnist_v5.json"), is_results_file(
        ...     "results/search/mnist4k_best.json")
        (True, False)
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return True
    if not isinstance(data, dict):
        return False
    return data.get("format") == RESULTS_FORMAT or isinstance(data.get("seeds"), dict)


def new_results(recipe_dict: Mapping[str, Any], epochs: int) -> dict[str, Any]:
    """Return the content of an empty results file for a recipe (as a dict).

    Example:
        >>> new_results({"name": "v9"}, 2)["seeds"]
        {}
    """
    return {
        "format": RESULTS_FORMAT,
        "version": RESULTS_VERSION,
        "recipe": dict(recipe_dict),
        "epochs": epochs,
        "seeds": {},
    }


def check_setting(
    path: Path, data: Mapping[str, Any], recipe: Any, epochs: Any, *, where: Path | None = None
) -> None:
    """Refuse to mix runs of another recipe or epoch count into a results file.

    Args:
        path: The results file.
        data: Its content.
        recipe: The recipe dict of the runs to add.
        epochs: Their epoch count.
        where: The file those runs come from, if not the current run.

    Raises:
        ResultsMismatchError: Naming what differs and the fix.
    """
    differ = [] if data.get("epochs") == epochs else ["epochs"]
    recorded, adding = _comparable_recipe(data.get("recipe")), _comparable_recipe(recipe)
    if recorded != adding:
        differ.insert(0, "recipe")
    if differ:
        source = "" if where is None else f" ({str(where)!r} holds another)"
        raise ResultsMismatchError(
            f"{path} holds results of a different setting ({_what_differs(differ)})"
            f"{source}{_masks_hint(path, recorded, adding)}; use another --out folder, or "
            f"delete {path.name} and the folder {path.stem}/ beside it to start over"
        )


def _masks_hint(path: Path, recorded: Any, adding: Any) -> str:
    """Where only the dropout masks differ: how to continue those results exactly."""
    try:
        masks = recorded["train"]["dropout_masks"], adding["train"]["dropout_masks"]
        same_otherwise = {**recorded, "train": {**recorded["train"], "dropout_masks": None}} == {
            **adding,
            "train": {**adding["train"], "dropout_masks": None},
        }
    except (KeyError, TypeError):
        return ""
    if masks[0] == masks[1] or not same_otherwise:
        return ""
    default = " (every recipe's default since recipe format 2)" if masks[1] == "hash" else ""
    return (
        f": its seeds drew {masks[0]!r} dropout masks, these runs {masks[1]!r}{default}; to "
        f"add seeds to it exactly, give it as the recipe, with the options it ran with: "
        f"tinyconv study {path} --out {path.parent}"
    )


def _what_differs(differ: list[str]) -> str:
    names = {"recipe": "the recipe", "epochs": "the number of epochs"}
    subject = " and ".join(names[key] for key in differ)
    return f"{subject} {'differ' if len(differ) > 1 else 'differs'}"


def check_sizes(path: Path, data: Mapping[str, Any], sizes: Mapping[str, int]) -> None:
    """Refuse to mix runs on other numbers of training or test images.

    Raises:
        ResultsMismatchError: Naming the recorded and the current size.
    """
    for key, size in sizes.items():
        recorded = {run[key] for run in data["seeds"].values() if key in run}
        if recorded - {size}:
            raise ResultsMismatchError(
                f"{path} holds runs with {key}={sorted(recorded)}, but this study has {size}; "
                "use another --out folder (or recipe name) for runs on other data"
            )


def _comparable_recipe(recorded: Any) -> Any:
    """A recipe dict as this tinyconv writes it, without the fields of how it executes.

    A results file written before a field existed (say ``train.compile_mode``) holds the
    same recipe as today's dict with that field at its default, and seeds trained on
    another device or compiled belong to the same study: comparing these forms lets such a
    study go on. What cannot be read stays as it is, and so differs.
    """
    from tinyconv.recipe import Recipe
    from tinyconv.train.config import EXECUTION_FIELDS

    try:
        data = Recipe.from_dict(recorded).to_dict()
    except (TinyconvError, ValueError, TypeError):
        return recorded
    data["train"] = {k: v for k, v in data["train"].items() if k not in EXECUTION_FIELDS}
    return data


def write_seed_record(
    path: Path, data: Mapping[str, Any], result: Mapping[str, Any]
) -> dict[str, Any]:
    """Save a finished seed: its own record, then the results file rebuilt from all records.

    Only the process that trained a seed writes its record, so no process can lose
    another's; the results file is rebuilt under a lock from its last content and every
    record (and :func:`load_results` merges records the file does not hold yet).

    Args:
        path: The results file.
        data: The study's results so far (from :func:`load_study`): its ``recipe`` and
            ``epochs`` go into the record.
        result: The seed's JSON-able result (with its ``seed``).

    Returns:
        The results file's new content, with every seed finished so far by any process.
    """
    from tinyconv.study.claims import FileLock

    recipe, epochs = data["recipe"], data["epochs"]
    record = {"format": SEED_RECORD_FORMAT, "version": RESULTS_VERSION}
    folder = path.with_suffix("")
    record |= {"recipe": recipe, "epochs": epochs, "result": dict(result)}
    _write_json(folder / f"seed{result['seed']}.json", record)
    with FileLock(folder / "results.lock"):
        current = load_results(path) if path.exists() else None
        current = current or _with_records(path, new_results(recipe, epochs))
        rest = {key: value for key, value in current.items() if key not in ("format", "version")}
        current = {"format": RESULTS_FORMAT, "version": RESULTS_VERSION, **rest}
        _write_json(path, current)
    return current
