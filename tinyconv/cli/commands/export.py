"""``tinyconv export MODEL --out DIR``: ONNX (and int8) files plus a device-cost report."""

from __future__ import annotations

import argparse

NAME = "export"
HELP = (
    "export a trained model file to ONNX (and int8 with --int8), verify it with "
    "onnxruntime, print and save the device-cost report"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``tinyconv export``.

    Args:
        parser: The subcommand's parser.
    """
    parser.add_argument("model", metavar="MODEL", help="model file written by tinyconv.save")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the outputs")
    parser.add_argument(
        "--int8", action="store_true", help="also write and score the int8 (QDQ) model"
    )
    parser.add_argument(
        "--calibration-images",
        type=int,
        default=1000,
        metavar="N",
        help="training images that calibrate int8 (default 1000; never test images)",
    )
    parser.add_argument(
        "--data-dir", default=None, metavar="D", help="dataset root (default $TINYCONV_DATA)"
    )
    parser.add_argument(
        "--test-images", type=int, default=None, metavar="N", help="score on the first N only"
    )
    parser.add_argument(
        "--latency-runs", type=int, default=300, metavar="N", help="timed runs per runtime"
    )


def run(args: argparse.Namespace) -> int:
    """Export, print the report and where it was saved.

    Args:
        args: Parsed arguments.

    Returns:
        0 on success (known errors propagate as TinyconvError and print as one line).
    """
    from tinyconv._extras import require

    for module in ("onnx", "onnxscript", "onnxruntime"):
        require(module, "export")
    from tinyconv.export import export_model

    report = export_model(
        args.model,
        args.out,
        int8=args.int8,
        calibration_images=args.calibration_images,
        data_root=args.data_dir,
        test_images=args.test_images,
        latency_runs=args.latency_runs,
    )
    print(report)
    print(f"Saved: {', '.join(f'{args.out}/{name}' for name in report.files.values())}")
    return 0
