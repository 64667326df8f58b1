"""TensorFlow Lite for Microcontrollers: its sources, and its library built once per core.

The sources are a TFLite Micro checkout whose ``tensorflow/lite/micro/tools/make/downloads/``
is filled (its own make fills it online), or an archive of one (``.tar.xz``, as in
``shared/vendor``), unpacked once into the build cache. :func:`build_library` runs
TFLite Micro's own make for the ``cortex_m_qemu`` target with the CMSIS-NN kernels
(``OPTIMIZED_KERNEL_DIR=cmsis_nn``) and ``BUILD_TYPE=release_with_logs`` (TFLite Micro's
choice for benchmarks: the ``release`` build strips the operator names its profiler
reports). The static library is kept where the make writes it, keyed by the sources
and the build flags, so each core is built once (5 to 7 minutes on 2 cores) and every
later firmware only compiles its own few files. File locks let concurrent runs share the
cache (one per core: different cores build side by side). The make runs with
``PIP_NO_INDEX=1`` so none of its scripts can install anything into the user's Python
environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tinyconv.mcu.cores import Core
from tinyconv.mcu.errors import FirmwareError, McuError
from tinyconv.mcu.toolchain import Toolchain

__all__ = [
    "BUILD_TYPE",
    "CACHE_ENV",
    "KERNELS",
    "SOURCES_ENV",
    "TflmLibrary",
    "TflmSources",
    "build_library",
    "cache_dir",
    "tflm_sources",
]

SOURCES_ENV = "TINYCONV_TFLM"
"""Environment variable naming the TFLite Micro sources when ``tflm`` is not given."""

CACHE_ENV = "TINYCONV_CACHE"
"""Environment variable naming the build cache (default ``~/.cache/tinyconv``)."""

_MAKEFILE = "tensorflow/lite/micro/tools/make/Makefile"
_DOWNLOADS = "tensorflow/lite/micro/tools/make/downloads"
_NEEDED = ("flatbuffers", "gemmlowp", "ruy", "cmsis", "cmsis_nn")
KERNELS = "cmsis_nn"
"""TFLite Micro's optimised kernel folder: Arm's CMSIS-NN."""
BUILD_TYPE = "release_with_logs"
"""TFLite Micro's build type: ``release`` would strip the operator names the profiler needs."""


@dataclass(frozen=True)
class TflmSources:
    """A TFLite Micro source tree ready to build offline.

    Args:
        root: The ``tflite-micro`` folder (holds ``tensorflow/``).
        origin: Where it came from: the folder or archive the user named.
        key: What identifies these sources: the git commit, or the archive's digest.
    """

    root: Path
    origin: str
    key: str


@dataclass(frozen=True)
class TflmLibrary:
    """TFLite Micro built for one core, and the flags a program linked with it needs.

    Args:
        sources: The sources it was built from.
        core: The core it was built for.
        archive: ``libtensorflow-microlite.a``.
        cxxflags: The C++ flags of the build (the same defines matter: they change the
            runtime's structures).
        includes: ``-I`` flags, absolute.
    """

    sources: TflmSources
    core: Core
    archive: Path
    cxxflags: tuple[str, ...]
    includes: tuple[str, ...]


def cache_dir() -> Path:
    """Return the build cache: ``$TINYCONV_CACHE`` or ``~/.cache/tinyconv``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "tinyconv"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_tree(root: Path, shown: str) -> None:
    if not (root / _MAKEFILE).is_file():
        raise McuError(
            f"{shown!r} is not a TFLite Micro checkout (no {_MAKEFILE}); give the folder "
            "of a github.com/tensorflow/tflite-micro clone, or an archive of one"
        )
    missing = [name for name in _NEEDED if not (root / _DOWNLOADS / name).is_dir()]
    if missing:
        raise McuError(
            f"the TFLite Micro checkout {shown!r} lacks {', '.join(missing)} in {_DOWNLOADS}/; "
            "fill it once with network access (its make downloads them: make -f "
            f"{_MAKEFILE} third_party_downloads) and try again"
        )


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _unpacked(archive: Path) -> TflmSources:
    key = _digest(archive)
    home = cache_dir() / "tflm" / key
    with _locked(cache_dir() / "tflm" / f"{key}.lock"):
        if not home.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=home.parent))
            try:
                with tarfile.open(archive) as tar:
                    tar.extractall(staging, filter="tar")
                os.rename(staging, home)
            except (tarfile.TarError, OSError) as error:
                shutil.rmtree(staging, ignore_errors=True)
                raise McuError(f"cannot unpack {str(archive)!r}: {error}") from None
    tops = [p for p in home.iterdir() if (p / "tensorflow").is_dir()]
    root = tops[0] if len(tops) == 1 else home
    _check_tree(root, str(archive))
    return TflmSources(root=root, origin=str(archive), key=key)


def _commit(root: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if done.returncode == 0:
        return done.stdout.strip()
    return "folder-" + hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]


def tflm_sources(tflm: str | os.PathLike[str] | None = None) -> TflmSources:
    """Find the TFLite Micro sources: a checkout folder or an archive of one.

    Args:
        tflm: The folder or archive (default: ``$TINYCONV_TFLM``).

    Returns:
        The sources, unpacked into the build cache if ``tflm`` is an archive.

    Raises:
        McuError: If none is given, the path does not exist, or the tree lacks the
            downloads its make needs.
    """
    given = tflm if tflm is not None else os.environ.get(SOURCES_ENV)
    if not given:
        raise McuError(
            "no TFLite Micro sources; give --tflm-dir (a tflite-micro checkout whose "
            f"{_DOWNLOADS}/ is filled, or an archive of one), or set ${SOURCES_ENV}"
        )
    path = Path(given).expanduser()
    if path.is_dir():
        _check_tree(path, str(given))
        return TflmSources(root=path.resolve(), origin=str(given), key=_commit(path))
    if path.is_file() and tarfile.is_tarfile(path):
        return _unpacked(path.resolve())
    raise McuError(
        f"no TFLite Micro checkout or archive at {str(given)!r}; check --tflm-dir "
        f"(or ${SOURCES_ENV})"
    )


def _make_command(core: Core) -> list[str]:
    return [
        "make",
        "-f",
        _MAKEFILE,
        "TARGET=cortex_m_qemu",
        f"TARGET_ARCH={core.name}",
        f"OPTIMIZED_KERNEL_DIR={KERNELS}",
        f"BUILD_TYPE={BUILD_TYPE}",
    ]


def _environment(toolchain: Toolchain) -> dict[str, str]:
    # python3 of this interpreter (its make scripts need numpy and pillow); never pip.
    path = os.pathsep.join((str(Path(sys.executable).parent), str(toolchain.bin_dir)))
    return {
        **os.environ,
        "PATH": f"{path}{os.pathsep}{os.environ.get('PATH', '')}",
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def _link_toolchain(sources: TflmSources, toolchain: Toolchain) -> None:
    """Give the make its ``downloads/gcc_embedded`` so it never downloads a compiler."""
    folder = sources.root / _DOWNLOADS / "gcc_embedded"
    if folder.exists():
        return
    staging = Path(tempfile.mkdtemp(prefix=".gcc_embedded.", dir=folder.parent))
    (staging / "bin").mkdir()
    for program in sorted(toolchain.bin_dir.glob("arm-none-eabi-*")):
        (staging / "bin" / program.name).symlink_to(program.resolve())
    os.rename(staging, folder)


def _variables(sources: TflmSources, core: Core, env: dict[str, str]) -> dict[str, str]:
    names = ("CXXFLAGS", "INCLUDES", "MICROLITE_LIB_PATH")
    done = subprocess.run(
        [*_make_command(core), *(f"print-{name}" for name in names)],
        cwd=sources.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = {}
    for line in done.stdout.splitlines():
        name, _, value = line.partition("=")
        if name in names:
            found[name] = value.strip()
    if set(found) != set(names):
        raise FirmwareError(
            f"TFLite Micro's make in {str(sources.root)!r} did not report its build flags "
            f"(exit {done.returncode}): {done.stderr.strip()[-400:]}"
        )
    return found


def build_library(
    sources: TflmSources,
    core: Core,
    toolchain: Toolchain,
    *,
    log: Callable[[str], None] | None = None,
) -> TflmLibrary:
    """Build TFLite Micro with CMSIS-NN for ``core``, or reuse the build already cached.

    Args:
        sources: From :func:`tflm_sources`.
        core: The core to build for.
        toolchain: From :func:`~tinyconv.mcu.toolchain.find_toolchain`.
        log: Told one line before a build starts (it takes minutes).

    Returns:
        The library and the flags to compile a program against it.

    Raises:
        FirmwareError: If the make fails (the message ends with its last lines).
    """
    env = _environment(toolchain)
    with _locked(sources.root / ".tinyconv-toolchain.lock"):
        _link_toolchain(sources, toolchain)
    with _locked(sources.root / f".tinyconv-build-{core.name}.lock"):  # one build per core
        variables = _variables(sources, core, env)
        archive = sources.root / variables["MICROLITE_LIB_PATH"]
        stamp = archive.with_name(archive.name + ".tinyconv.json")
        wanted = {"sources": sources.key, "core": core.name, "cxxflags": variables["CXXFLAGS"]}
        built = stamp.is_file() and archive.is_file() and json.loads(stamp.read_text()) == wanted
        if not built:
            if log is not None:
                log(
                    f"building TFLite Micro with CMSIS-NN for {core.name} (once; a few minutes "
                    f"on 2 cores; kept in {archive.parent})"
                )
            done = subprocess.run(
                [*_make_command(core), "microlite", f"-j{os.cpu_count() or 1}"],
                cwd=sources.root,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0 or not archive.is_file():
                tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-5:])
                raise FirmwareError(
                    f"TFLite Micro's make failed for {core.name} (exit {done.returncode}): {tail}"
                )
            stamp.write_text(json.dumps(wanted) + "\n")
    includes = tuple(
        flag if not flag.startswith("-I") else f"-I{sources.root / flag[2:]}"
        for flag in variables["INCLUDES"].split()
    )
    return TflmLibrary(
        sources=sources,
        core=core,
        archive=archive,
        cxxflags=tuple(variables["CXXFLAGS"].split()),
        includes=includes,
    )
