import pytest
import torch
from torch import nn

from tinyconv.activations import ACTIVATIONS, make_activation, resolve_activation


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_name_resolves_to_a_working_module(name: str) -> None:
    cls = resolve_activation(name)
    assert cls is ACTIVATIONS[name]
    assert isinstance(cls, type) and issubclass(cls, nn.Module)
    module = make_activation(name)
    assert isinstance(module, cls)
    x = torch.randn(2, 3, 4, 4)
    assert module(x).shape == x.shape
    assert sum(p.numel() for p in module.parameters()) == 0  # activations are free


def test_names_are_case_insensitive() -> None:
    assert resolve_activation("ReLU") is nn.ReLU
    assert resolve_activation("SiLU") is nn.SiLU


def test_class_passes_through_and_none_means_no_activation() -> None:
    assert resolve_activation(nn.Mish) is nn.Mish
    assert isinstance(make_activation(nn.Mish), nn.Mish)
    assert resolve_activation(None) is None
    assert make_activation(None) is None


def test_make_activation_returns_fresh_instances() -> None:
    assert make_activation("relu") is not make_activation("relu")


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown activation 'swish'; use one of: gelu, .*relu"
    ) as info:
        resolve_activation("swish")
    assert all(name in str(info.value) for name in ACTIVATIONS)


@pytest.mark.parametrize("bad", [nn.ReLU(), 3, int, "relu "])
def test_not_a_name_or_module_class(bad: object) -> None:
    with pytest.raises(ValueError, match="activation"):
        resolve_activation(bad)  # type: ignore[arg-type]
