"""The function templates: all six memory types, valid, runnable where the framework is."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from _frameworks import framework_state, requires_framework

from openhcs_plugins.memory import MemoryType
from openhcs_plugins.templates import (
    AVAILABLE_MEMORY_TYPES,
    TEMPLATE_FUNCTION_NAME,
    get_default_template,
    get_template_for_memory_type,
)


def _decorated_functions(code: str) -> list[ast.FunctionDef]:
    tree = ast.parse(code)
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.decorator_list]


def _exec_template(memory_type: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"__name__": f"template_{memory_type}"}
    code = get_template_for_memory_type(memory_type)
    exec(compile(code, f"<{memory_type} template>", "exec"), namespace)
    return namespace[TEMPLATE_FUNCTION_NAME]


def test_available_memory_types_are_the_six_in_documented_order() -> None:
    assert AVAILABLE_MEMORY_TYPES == [
        "numpy",
        "cupy",
        "torch",
        "tensorflow",
        "jax",
        "pyclesperanto",
    ]


def test_default_template_is_the_numpy_template() -> None:
    assert get_default_template() == get_template_for_memory_type("numpy")


def test_enum_and_name_give_the_same_template() -> None:
    for member in MemoryType:
        assert get_template_for_memory_type(member) == get_template_for_memory_type(member.value)


@pytest.mark.parametrize("bad", ["numpy2", "Torch", "", "openhcs"])
def test_unknown_memory_type_is_a_value_error_listing_the_six(bad: str) -> None:
    with pytest.raises(ValueError, match="Unknown memory type") as raised:
        get_template_for_memory_type(bad)
    for name in AVAILABLE_MEMORY_TYPES:
        assert name in str(raised.value)


@pytest.mark.parametrize("memory_type", AVAILABLE_MEMORY_TYPES)
def test_template_has_the_documented_parts(memory_type: str) -> None:
    code = get_template_for_memory_type(memory_type)
    (function,) = _decorated_functions(code)
    assert function.name == TEMPLATE_FUNCTION_NAME
    assert function.args.args[0].arg == "image"
    docstring = ast.get_docstring(function)
    assert docstring is not None
    assert "Args:" in docstring and "Returns:" in docstring
    assert "(C, Y, X)" in docstring
    assert "# return processed, metadata" in code
    assert "from openhcs_plugins" in code


def test_pyclesperanto_template_uses_pyclesperanto_not_the_prototype() -> None:
    code = get_template_for_memory_type("pyclesperanto")
    assert "import pyclesperanto as cle" in code
    assert "prototype" not in code


@pytest.mark.parametrize("memory_type", AVAILABLE_MEMORY_TYPES)
def test_template_passes_validate_code(memory_type: str) -> None:
    from openhcs_plugins.validation import validate_code

    result = validate_code(get_template_for_memory_type(memory_type))
    assert result.is_valid, [str(error) for error in result.errors]
    assert result.errors == ()
    assert result.function_names == (TEMPLATE_FUNCTION_NAME,)


@pytest.mark.parametrize("memory_type", AVAILABLE_MEMORY_TYPES)
def test_template_declares_its_memory_type_once_executed(memory_type: str) -> None:
    # A template imports its framework, so it must be importable (not necessarily usable).
    # framework_state imports it first the way the conversion layer does (pyclesperanto needs
    # its OpenCL set-up before the first import, or it stays without a device for the session).
    framework_state(memory_type)
    pytest.importorskip(memory_type, reason=f"{memory_type} is not installed")
    function = _exec_template(memory_type)
    assert function.__name__ == TEMPLATE_FUNCTION_NAME
    assert function.input_memory_type == memory_type
    assert function.output_memory_type == memory_type


def test_torch_template_does_not_shadow_the_decorator_with_the_torch_module() -> None:
    # With a module-level ``import torch`` after ``from ... import torch``, ``@torch`` would be
    # PyTorch itself and the definition would fail or leave an undecorated function.
    function = _exec_template("torch")
    assert function.input_memory_type == "torch"
    assert function.__globals__["torch"].__name__ == "torch"


def _stack() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.random((2, 16, 16), dtype=np.float32) * 100.0


def _numpy_input(stack: np.ndarray) -> Any:
    return stack


def _cupy_input(stack: np.ndarray) -> Any:
    import cupy

    return cupy.asarray(stack)


def _torch_input(stack: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(stack)


def _tensorflow_input(stack: np.ndarray) -> Any:
    import tensorflow

    return tensorflow.convert_to_tensor(stack)


def _jax_input(stack: np.ndarray) -> Any:
    import jax.numpy

    return jax.numpy.asarray(stack)


def _pyclesperanto_input(stack: np.ndarray) -> Any:
    import pyclesperanto

    return pyclesperanto.push(stack)


_MAKE_INPUT: dict[str, Callable[[np.ndarray], Any]] = {
    "numpy": _numpy_input,
    "cupy": _cupy_input,
    "torch": _torch_input,
    "tensorflow": _tensorflow_input,
    "jax": _jax_input,
    "pyclesperanto": _pyclesperanto_input,
}


@pytest.mark.parametrize("memory_type", AVAILABLE_MEMORY_TYPES)
def test_template_runs_on_a_stack_of_its_framework(memory_type: str) -> None:
    if memory_type != "numpy":
        # pyclesperanto: the template runs a kernel, so kernels must build here.
        requires_framework(memory_type, kernels=memory_type == "pyclesperanto")
    stack = _stack()
    function = _exec_template(memory_type)

    result = function(_MAKE_INPUT[memory_type](stack))

    assert tuple(int(n) for n in result.shape) == stack.shape
    # The output is of the declared memory type, not silently converted to numpy.
    assert type(result).__module__.split(".")[0] != "numpy" or memory_type == "numpy"


def test_numpy_template_scales_and_offsets() -> None:
    function = _exec_template("numpy")
    stack = _stack()
    np.testing.assert_allclose(function(stack, scale=2.0, offset=1.0), stack * 2.0 + 1.0)


def test_torch_template_normalises_each_channel_to_the_range() -> None:
    requires_framework("torch")
    import torch

    function = _exec_template("torch")
    stack = _stack()
    stack[1] = 7.0  # a flat channel must not divide by zero

    result = function(torch.from_numpy(stack), low=0.0, high=1.0).numpy()

    assert result[0].min() == 0.0 and result[0].max() == 1.0
    assert np.all(result[1] == 0.0)


@pytest.mark.parametrize("memory_type", AVAILABLE_MEMORY_TYPES)
def test_template_runs_from_a_numpy_input_and_returns_its_declared_type(memory_type: str) -> None:
    # What a user does with a TIFF: a numpy stack in; the decorator converts it.
    if memory_type != "numpy":
        requires_framework(memory_type, kernels=memory_type == "pyclesperanto")
    from openhcs_plugins.memory import detect_memory_type

    stack = _stack()
    function = _exec_template(memory_type)

    result = function(stack)

    assert detect_memory_type(result).value == memory_type
    assert tuple(int(n) for n in result.shape) == stack.shape
