"""Depthwise-separable blocks on the emulated Cortex-M4: the converter's operators, CMSIS-NN's
kernels against the reference kernels, and the device estimate against the measurement.

A small model with one separable block at multiplier 2 and two at multiplier 1, trained for
one epoch on 2,000 real MNIST images, goes through ``run_on_mcu`` once (skipped with the
reason where the toolchain or TFLite Micro's sources are missing, failed under CI).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tinyconv
from tinyconv import ConvSpec, DepthwiseSeparableSpec, GAPHeadSpec, TransitionSpec
from tinyconv.data import ImageDataset
from tinyconv.device_estimate import cost_class
from tinyconv.mcu import McuReport, run_on_mcu

from .conftest import briefly_trained
from .test_mcu import tflm as tflm  # the fixture

SEPARABLE = (
    ConvSpec(out_channels=8),
    DepthwiseSeparableSpec(out_channels=16, dropout=0.05),
    TransitionSpec(out_channels=8),
    DepthwiseSeparableSpec(out_channels=16, multiplier=2),
    DepthwiseSeparableSpec(out_channels=16),
    GAPHeadSpec(num_classes=10),
)
IMAGES = 100


@pytest.fixture(scope="module")
def separable(
    mnist_train: ImageDataset,
    mnist_root: Path,
    tflm: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[tinyconv.TinyNet, McuReport]:
    model = briefly_trained(SEPARABLE, mnist_train)
    work = tmp_path_factory.mktemp("separable")
    tinyconv.save(model, work / "separable.model.pt")
    report = run_on_mcu(
        work / "separable.model.pt",
        work / "m4",
        cpu="cortex-m4",
        images=IMAGES,
        data_root=mnist_root,
        tflm=tflm,
    )
    return model, report


def test_each_separable_block_is_a_depthwise_then_a_1x1_convolution_on_the_core(
    separable: tuple[tinyconv.TinyNet, McuReport],
) -> None:
    model, report = separable
    ran = [op["operator"] for op in report.to_dict()["instructions"]["per_operator"]]
    planned = [op.kind for op in tinyconv.deployed_ops(model)]
    assert ran == planned
    # the first convolution (one input channel) and the three separable halves are depthwise
    assert ran.count("DEPTHWISE_CONV_2D") == 4
    classes = {cost_class(op) for op in tinyconv.deployed_ops(model)}
    assert "DEPTHWISE_CONV_2D (one output per channel)" in classes


def test_cmsis_nn_computes_what_the_reference_kernels_compute(
    separable: tuple[tinyconv.TinyNet, McuReport],
) -> None:
    _, report = separable
    parity, accuracy = report.to_dict()["parity"], report.to_dict()["accuracy"]
    assert parity["images"] == IMAGES
    assert parity["identical_outputs"] == 1.0
    assert accuracy["mcu_int8"] == accuracy["host_reference_int8"]


def test_the_estimate_knows_every_operator_and_stays_within_its_stated_error(
    separable: tuple[tinyconv.TinyNet, McuReport],
) -> None:
    """A model the fit has not seen: each figure within the largest left-out error."""
    model, report = separable
    measured = report.to_dict()
    estimate = tinyconv.estimate_device(model)
    assert not estimate.uncalibrated, estimate.uncalibrated
    pairs = {
        "flash": (estimate.flash_bytes, measured["flash"]["model"]),
        "arena": (estimate.arena_bytes, measured["ram"]["arena"]),
        "instructions": (estimate.instructions, measured["instructions"]["mean"]),
    }
    for name, (estimated, value) in pairs.items():
        assert abs(estimated / value - 1) <= estimate.errors[name] + 1e-3, name
