from __future__ import annotations

import inspect
import subprocess
import sys

import numpy as np
import pytest

from openhcs_plugins import decorators
from openhcs_plugins.memory import (
    AVAILABLE_MEMORY_TYPES,
    CONTRACT_ATTRIBUTE,
    MemoryType,
    cupy,
    jax,
    memory_types,
    numpy,
    pyclesperanto,
    tensorflow,
    torch,
)

ALL = [numpy, cupy, torch, tensorflow, jax, pyclesperanto]


def test_available_memory_types_lists_the_six_names_in_documented_order():
    assert AVAILABLE_MEMORY_TYPES == [
        "numpy",
        "cupy",
        "torch",
        "tensorflow",
        "jax",
        "pyclesperanto",
    ]
    assert [m.value for m in MemoryType] == AVAILABLE_MEMORY_TYPES


@pytest.mark.parametrize("decorator", ALL, ids=AVAILABLE_MEMORY_TYPES)
def test_bare_decorator_sets_memory_attributes_and_keeps_identity(decorator):
    def my_filter(image, sigma: float = 1.0):
        """Blur."""
        return image

    wrapped = decorator(my_filter)
    name = decorator.__name__
    assert wrapped.input_memory_type == name
    assert wrapped.output_memory_type == name
    assert wrapped.backend == name
    assert wrapped.__name__ == "my_filter"
    assert wrapped.__module__ == __name__
    assert wrapped.__doc__ == "Blur."
    assert getattr(wrapped, CONTRACT_ATTRIBUTE) == "FLEXIBLE"
    params = inspect.signature(wrapped).parameters
    assert list(params) == ["image", "sigma", "slice_by_slice"]
    assert params["sigma"].default == 1.0
    assert params["slice_by_slice"].kind is inspect.Parameter.KEYWORD_ONLY


def test_decorator_with_arguments_sets_output_type_and_contract():
    @torch(output_type="numpy", contract="PURE_2D")
    def f(image):
        return image

    assert (f.input_memory_type, f.output_memory_type) == ("torch", "numpy")
    assert f.backend == "torch"
    assert getattr(f, CONTRACT_ATTRIBUTE) == "PURE_2D"


def test_memory_types_decorator_and_decorators_module_reexport():
    @memory_types("jax", "numpy")
    def f(image):
        return image

    assert (f.input_memory_type, f.output_memory_type) == ("jax", "numpy")
    assert decorators.numpy is numpy and decorators.torch is torch


def test_bad_memory_type_or_contract_is_a_clear_error():
    with pytest.raises(ValueError, match="not a memory type; use one of: numpy"):
        numpy(output_type="matlab")(lambda image: image)
    with pytest.raises(ValueError, match="not a processing contract"):
        numpy(contract="SIDEWAYS")(lambda image: image)


def test_numpy_function_receives_and_returns_the_same_array_without_copy():
    @numpy
    def identity(image):
        return image

    data = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    assert identity(data) is data
    assert identity(image=data) is data


def test_slice_by_slice_applies_per_plane_and_restacks():
    seen = []

    @numpy
    def per_plane(image, offset=0):
        seen.append(image.shape)
        return image + offset

    stack = np.zeros((3, 4, 5))
    out = per_plane(stack, offset=2, slice_by_slice=True)
    assert seen == [(4, 5)] * 3
    assert out.shape == (3, 4, 5) and np.all(out == 2)


def test_slice_by_slice_keeps_metadata_per_plane():
    @numpy
    def measure(image):
        return image, {"mean": float(image.mean())}

    stack = np.stack([np.full((2, 2), v, dtype=float) for v in (1, 2, 3)])
    out, metas = measure(stack, slice_by_slice=True)
    assert out.shape == (3, 2, 2)
    assert metas == [{"mean": 1.0}, {"mean": 2.0}, {"mean": 3.0}]


def test_image_metadata_tuple_is_returned_untouched():
    meta = {"count": 3}

    @numpy
    def f(image):
        return image, meta

    data = np.ones((1, 2, 2))
    image, returned = f(data)
    assert image is data and returned is meta


def test_function_declaring_slice_by_slice_itself_gets_it_passed_through():
    @numpy
    def f(image, *, slice_by_slice=False):
        return slice_by_slice

    assert f(np.zeros((1, 1, 1)), slice_by_slice=True) is True
    assert list(inspect.signature(f).parameters) == ["image", "slice_by_slice"]


def test_decorating_imports_no_framework():
    code = (
        "import sys\n"
        "from openhcs_plugins.memory import torch, jax, tensorflow, cupy, pyclesperanto\n"
        "@torch\n@jax\n@tensorflow\n@cupy\n@pyclesperanto\n"
        "def f(image):\n    return image\n"
        "heavy = {'torch', 'jax', 'tensorflow', 'cupy', 'pyclesperanto'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
