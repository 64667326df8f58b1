import pytest
import torch

from tinyconv.train import resolve_device


def test_cpu_and_torch_device_pass_through():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_auto_prefers_cuda_then_mps_then_cpu():
    expected = "cpu"
    if torch.backends.mps.is_available():
        expected = "mps"
    if torch.cuda.is_available():
        expected = "cuda"
    assert resolve_device("auto").type == expected
    assert resolve_device().type == expected


@pytest.mark.parametrize("spec", ["gpu", "", "cuda:x"])
def test_malformed_spec_is_a_value_error(spec):
    with pytest.raises(ValueError, match="device must be 'auto' or a device string"):
        resolve_device(spec)


def test_unsupported_device_type_is_refused():
    with pytest.raises(ValueError, match=r"device type 'meta'.*not supported"):
        resolve_device("meta")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_says_so_and_how_to_fix():
    with pytest.raises(RuntimeError, match=r"CUDA is not available.*use device='auto' or 'cpu'"):
        resolve_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_index_beyond_device_count_is_refused():
    count = torch.cuda.device_count()
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(RuntimeError, match=f"only {count} CUDA device"):
        resolve_device(f"cuda:{count}")


@pytest.mark.skipif(torch.backends.mps.is_available(), reason="needs a machine without MPS")
def test_unavailable_mps_says_so():
    with pytest.raises(RuntimeError, match="MPS is not available"):
        resolve_device("mps")
