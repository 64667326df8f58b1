"""``tinyconv mcu MODEL --cpu cortex-m4 --out DIR``: the model in firmware on an emulated core."""

from __future__ import annotations

import argparse
import sys

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs
from tinyconv.cli.thread_options import add_threads_argument, apply_thread_option

NAME = "mcu"
HELP = (
    "build an int8 model into Cortex-M firmware with TFLite Micro and CMSIS-NN, run it on "
    "the emulated core (QEMU) over test images, and report flash, RAM and instructions per "
    "inference, checked against TFLite Micro's reference kernels"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``tinyconv mcu``.

    Args:
        parser: The subcommand's parser.
    """
    from tinyconv.mcu.cores import CORES

    parser.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        help="an int8 .tflite written by tinyconv export --format tflite --int8, or a model "
        "file (exported first)",
    )
    parser.add_argument("--out", metavar="DIR", help="folder for the report, image and C files")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --out whole when it holds an earlier run"
    )
    parser.add_argument(
        "--cpu",
        choices=sorted(CORES),
        default="cortex-m4",
        help="the core to build for and emulate",
    )
    parser.add_argument(
        "--images", type=int, default=1000, metavar="N", help="run the first N test images"
    )
    parser.add_argument(
        "--tflm-dir",
        default=None,
        metavar="PATH",
        help="TFLite Micro sources: a tflite-micro checkout with its downloads filled, or an "
        "archive of one (default $TINYCONV_TFLM)",
    )
    parser.add_argument(
        "--clock-mhz",
        type=float,
        default=None,
        metavar="MHZ",
        help="clock of the time estimate (default: a typical part with that core)",
    )
    parser.add_argument(
        "--prefix", default=None, metavar="NAME", help="prefix of the model's C symbols"
    )
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only build (and cache) TFLite Micro for --cpu, then exit; no MODEL needed",
    )
    add_threads_argument(parser)
    add_dataset_arguments(
        parser, "dataset of the test images (default: the one the export report names)"
    )


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Build, run, print the report and where it was saved.

    Args:
        args: Parsed arguments.

    Returns:
        0 on success (known errors propagate as TinyconvError and print as one line).
    """
    from tinyconv.errors import UsageError

    if args.prepare:
        from tinyconv.mcu.cores import core
        from tinyconv.mcu.tflm import build_library, tflm_sources
        from tinyconv.mcu.toolchain import find_toolchain

        toolchain = find_toolchain()
        library = build_library(tflm_sources(args.tflm_dir), core(args.cpu), toolchain, log=_log)
        print(f"TFLite Micro with CMSIS-NN for {args.cpu}: {library.archive}")
        return 0
    if args.model is None or args.out is None:
        raise UsageError("give MODEL and --out DIR (or --prepare to only build the library)")
    register_dataset_dirs(args)
    apply_thread_option(args)
    from tinyconv.export.tflite_graph import require_tflite_extra

    require_tflite_extra()  # a model file is exported first: the whole extra is used
    from tinyconv.mcu import run_on_mcu

    report = run_on_mcu(
        args.model,
        args.out,
        cpu=args.cpu,
        images=args.images,
        dataset=args.dataset,
        data_root=args.data_dir,
        tflm=args.tflm_dir,
        clock_mhz=args.clock_mhz,
        prefix=args.prefix,
        overwrite=args.overwrite,
        log=_log,
    )
    print(report)
    print(f"Saved in {args.out}")
    return 0
