"""``tinyconv export MODEL --out DIR``: ONNX or .tflite (and int8) files plus a device report."""

from __future__ import annotations

import argparse

from tinyconv.cli.dataset_options import add_dataset_arguments, register_dataset_dirs
from tinyconv.cli.thread_options import add_threads_argument, apply_thread_option

NAME = "export"
HELP = (
    "export a trained model file to ONNX or .tflite (and int8 with --int8), verify it "
    "(onnxruntime; LiteRT and TFLite Micro), print and save the device report"
)


def _default(target: str, setting: str) -> object:
    """The default of ``setting`` in ``tinyconv.export.<target>`` (never a copy)."""
    import dataclasses

    from tinyconv import export  # imports none of the extras

    (found,) = (f for f in dataclasses.fields(getattr(export, target)) if f.name == setting)
    return found.default


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``tinyconv export``.

    Args:
        parser: The subcommand's parser.
    """
    parser.add_argument("model", metavar="MODEL", help="model file written by tinyconv.save")
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder for the outputs: a new or empty one (they are built aside and moved in whole)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace --out whole when it holds an earlier export (never a folder of other files)",
    )
    parser.add_argument(
        "--format",
        choices=("onnx", "tflite"),
        default="onnx",
        help="onnx (onnxruntime) or tflite (LiteRT and TFLite Micro, with C sources for "
        "firmware; needs the [tflite] extra); default onnx",
    )
    parser.add_argument("--int8", action="store_true", help="also write and score the int8 model")
    parser.add_argument(
        "--calibration-images",
        type=int,
        default=_default("OnnxTarget", "calibration_images"),
        metavar="N",
        help="training images that calibrate post-training int8 (never test images; "
        "unused with --qat-epochs, whose fine-tuning sets the ranges)",
    )
    parser.add_argument(
        "--qat-epochs",
        type=int,
        default=_default("OnnxTarget", "qat_epochs"),
        metavar="E",
        help="onnx with --int8: make the int8 model by E epochs of quantization-aware "
        "fine-tuning on the training images (a validation split held out and scored) "
        "instead of post-training calibration; default 0 (post-training)",
    )
    parser.add_argument(
        "--qat-lr",
        type=float,
        default=_default("OnnxTarget", "qat_lr"),
        metavar="LR",
        help="learning rate of the quantization-aware fine-tuning (constant SGD)",
    )
    parser.add_argument(
        "--qat-train-images",
        type=int,
        default=None,
        metavar="N",
        help="fine-tune on the first N training images only",
    )
    parser.add_argument(
        "--max-int8-drop",
        type=float,
        default=_default("OnnxTarget", "max_int8_drop_points"),
        metavar="POINTS",
        help="refuse an int8 file that scores more than POINTS below fp32 on the test images, "
        "more than one image below and more than the noise of the comparison (both formats)",
    )
    add_threads_argument(parser)
    add_dataset_arguments(
        parser,
        "dataset to calibrate and score on (default: the one the model file records; "
        "a model file that records none needs it)",
    )
    parser.add_argument(
        "--test-images", type=int, default=None, metavar="N", help="score on the first N only"
    )
    parser.add_argument(
        "--latency-runs",
        type=int,
        default=_default("OnnxTarget", "latency_runs"),
        metavar="N",
        help="timed runs per runtime",
    )
    parser.add_argument(
        "--micro-images",
        type=int,
        default=_default("TfliteTarget", "micro_images"),
        metavar="N",
        help="tflite: run the first N test images in TFLite Micro too",
    )
    parser.add_argument(
        "--keep-names",
        action="store_true",
        help="tflite: keep the tensor names (PyTorch module paths) in the files, e.g. for "
        "a graph viewer; they cost flash and no runtime reads them",
    )


def run(args: argparse.Namespace) -> int:
    """Export with the target ``--format`` names, print the report and where it was saved.

    Args:
        args: Parsed arguments.

    Returns:
        0 on success (known errors propagate as TinyconvError and print as one line).
    """
    from tinyconv.export.errors import ExportError

    register_dataset_dirs(args)
    apply_thread_option(args)
    if args.format == "tflite" and args.qat_epochs:
        raise ExportError(
            "--qat-epochs makes an ONNX int8 model; drop --format tflite (its int8 is "
            "post-training only)"
        )
    if args.format == "onnx" and args.keep_names:
        raise ExportError("--keep-names keeps the names in .tflite files; add --format tflite")
    from tinyconv.export import OnnxTarget, TfliteTarget, export_as

    if args.format == "tflite":
        target = TfliteTarget(
            int8=args.int8, calibration_images=args.calibration_images,
            micro_images=args.micro_images, max_int8_drop_points=args.max_int8_drop,
            keep_names=args.keep_names,
        )  # fmt: skip
    else:
        target = OnnxTarget(
            int8=args.int8, calibration_images=args.calibration_images,
            latency_runs=args.latency_runs, qat_epochs=args.qat_epochs, qat_lr=args.qat_lr,
            qat_train_images=args.qat_train_images, max_int8_drop_points=args.max_int8_drop,
        )  # fmt: skip
    report = export_as(
        args.model, args.out, target, dataset=args.dataset, data_root=args.data_dir,
        test_images=args.test_images, overwrite=args.overwrite,
    )  # fmt: skip
    print(report)
    print(f"Saved: {', '.join(f'{args.out}/{name}' for name in report.files.values())}")
    return 0
