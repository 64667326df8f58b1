"""The one export pipeline: a target plugs in, settings are refused before any work, a
failing target leaves nothing, and a shipped model exports by name."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

import tinyconv
from tinyconv.errors import OutputExistsError
from tinyconv.export import ExportError, ExportTarget, OnnxTarget, TfliteTarget, export_as
from tinyconv.export.errors import CalibrationDataError
from tinyconv.export.job import ExportJob


@dataclass
class LogitsTarget:
    """A target of our own: writes the folded copy's logits; records what it was given."""

    refuse: bool = False
    seen: list[ExportJob] = field(default_factory=list)

    def check(self) -> None:
        if self.refuse:
            raise ExportError("refused before any work")

    def write(self, job: ExportJob, staged: Path) -> dict[str, object]:
        self.seen.append(job)
        with torch.inference_mode():
            logits = job.folded(job.images).numpy()
        (staged / job.file(".logits.npy")).write_bytes(logits.tobytes())
        report = {"files": {"logits": job.file(".logits.npy")}, "images": len(job.images)}
        (staged / job.file(".export.json")).write_text(json.dumps(report))
        return report


@pytest.mark.mnist
def test_a_target_of_our_own_gets_one_resolved_job_and_its_files_land_whole(
    v5_file: Path, trained_v5: tinyconv.TinyNet, mnist_root: Path, tmp_path: Path
) -> None:
    target = LogitsTarget()
    assert isinstance(target, ExportTarget)
    report = export_as(v5_file, tmp_path / "out", target, data_root=mnist_root, test_images=300)
    (job,) = target.seen
    assert (job.stem, job.dataset, job.source) == ("v5", "mnist", str(v5_file))
    assert job.images.shape == (300, *trained_v5.input_shape) and len(job.labels) == 300
    with torch.inference_mode():
        expected = trained_v5(job.images).numpy()
    np.testing.assert_array_equal(job.reference, expected)  # PyTorch's own logits
    folded = np.frombuffer((tmp_path / "out" / "v5.logits.npy").read_bytes(), np.float32)
    np.testing.assert_allclose(folded.reshape(300, 10), expected, atol=1e-4)  # folding is exact
    assert report["images"] == 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left
    assert job.fold.folded  # the job's copy is folded; the model is not
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in trained_v5.modules())


def test_settings_are_refused_before_the_model_is_read_or_a_folder_made(tmp_path: Path) -> None:
    model = tinyconv.build([tinyconv.ConvSpec(out_channels=2), tinyconv.GAPHeadSpec(num_classes=2)])
    model.eval()
    for target, error, words in [
        (LogitsTarget(refuse=True), ExportError, "refused before any work"),
        (OnnxTarget(latency_runs=0), ExportError, "latency_runs must be >= 1"),
        (OnnxTarget(int8=False, qat_epochs=2), ExportError, "pass int8=True"),
        (OnnxTarget(calibration_images=0), CalibrationDataError, "calibration_images must be"),
        (TfliteTarget(micro_images=0), ExportError, "micro_images must be >= 1"),
        (TfliteTarget(calibration_images=0), CalibrationDataError, "must be >= 1, got 0"),
        (TfliteTarget(max_int8_drop_points=-1), ExportError, "drop"),
    ]:
        with pytest.raises(error, match=words):
            export_as(model, tmp_path / "out", target)
        assert list(tmp_path.iterdir()) == []


@pytest.mark.mnist
def test_a_target_that_fails_while_writing_leaves_nothing(
    v5_file: Path, mnist_root: Path, tmp_path: Path
) -> None:
    class HalfWay(LogitsTarget):
        def write(self, job: ExportJob, staged: Path) -> dict[str, object]:
            super().write(job, staged)
            raise ExportError("verification failed after two files")

    with pytest.raises(ExportError, match="after two files"):
        export_as(v5_file, tmp_path / "out", HalfWay(), data_root=mnist_root, test_images=50)
    assert list(tmp_path.iterdir()) == []
    export_as(v5_file, tmp_path / "out", LogitsTarget(), data_root=mnist_root, test_images=50)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        export_as(v5_file, tmp_path / "out", LogitsTarget(), data_root=mnist_root, test_images=50)


@pytest.mark.mnist
def test_a_shipped_model_exports_by_name(mnist_root: Path, tmp_path: Path) -> None:
    target = LogitsTarget()
    export_as("mnist_v5", tmp_path / "out", target, data_root=mnist_root, test_images=1000)
    (job,) = target.seen
    assert job.stem == "mnist_v5" and job.dataset == "mnist"
    accuracy = float((job.reference.argmax(1) == job.labels.numpy()).mean())
    assert accuracy > 0.98  # the shipped V5 (99.33 % on all 10,000)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "mnist_v5.export.json",
        "mnist_v5.logits.npy",
    ]
