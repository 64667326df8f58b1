"""The tiny-model onnxruntime session: its settings, and the same logits as a default session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

import tinyconv
from tinyconv.export import (
    ExportError,
    export_onnx,
    fold_batchnorm,
    onnx_session,
    tiny_model_session,
)
from tinyconv.export.onnx import onnx_logits
from tinyconv.export.session import TINY_MODEL_SETTINGS


@pytest.fixture(scope="module")
def onnx_file(trained_v5: tinyconv.TinyNet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folded, _ = fold_batchnorm(trained_v5)
    return export_onnx(folded, tmp_path_factory.mktemp("session") / "v5.onnx")


def test_the_session_has_the_tiny_model_settings(onnx_file: Path) -> None:
    options = tiny_model_session(onnx_file).get_session_options()
    assert options.intra_op_num_threads == TINY_MODEL_SETTINGS["intra_op_num_threads"] == 1
    assert options.inter_op_num_threads == 1
    for key in ("session.intra_op.allow_spinning", "session.inter_op.allow_spinning"):
        assert options.get_session_config_entry(key) == TINY_MODEL_SETTINGS[key] == "0"
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert tiny_model_session(onnx_file, threads=2).get_session_options().intra_op_num_threads == 2


def test_it_computes_what_a_default_session_computes(
    onnx_file: Path, test_images: tuple[torch.Tensor, torch.Tensor]
) -> None:
    images = test_images[0][:64]
    tiny = onnx_logits(tiny_model_session(onnx_file), images, batch_size=1)
    default = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(tiny, onnx_logits(default, images), atol=1e-5, rtol=0)


def test_a_missing_file_or_bad_thread_count_is_one_clear_error(
    onnx_file: Path, tmp_path: Path
) -> None:
    for open_session in (tiny_model_session, onnx_session):
        with pytest.raises(ExportError, match=r"no ONNX file at .*nothing.onnx'; write one with"):
            open_session(tmp_path / "nothing.onnx")
    for threads in (0, -1, 1.5, True):
        with pytest.raises(ExportError, match="threads must be a positive int"):
            tiny_model_session(onnx_file, threads=threads)  # type: ignore[arg-type]
