"""The examples of the OpenHCS custom-function documentation, run as written with the import path
changed to openhcs_plugins, and the user code unchanged with OpenHCS's own imports."""

from __future__ import annotations

import numpy as np
import pytest

from openhcs_plugins import CustomFunctionManager
from openhcs_plugins.registry import FunctionRegistry, get_default_registry, register_function
from openhcs_plugins.signals import custom_function_signals
from openhcs_plugins.templates import (
    AVAILABLE_MEMORY_TYPES,
    get_default_template,
    get_template_for_memory_type,
)
from openhcs_plugins.validation import (
    ValidationError,
    validate_decorator,
    validate_function,
    validate_imports,
    validate_syntax,
)

DOC_CODE = '''
from {module} import numpy
import numpy as np

@numpy
def my_function(image, threshold=0.5):
    """Custom thresholding function."""
    return np.where(image > threshold, image, 0)
'''

MODULES = ["openhcs_plugins.decorators", "openhcs.core.memory.decorators", "openhcs.core.memory"]


@pytest.mark.parametrize("module", MODULES)
def test_manager_example_runs_as_written(module, tmp_path):
    manager = CustomFunctionManager(tmp_path / "custom_functions")
    code = DOC_CODE.format(module=module)

    funcs = manager.register_from_code(code, persist=True)
    count = manager.load_all_custom_functions()
    info_list = manager.list_custom_functions()
    assert [f.__name__ for f in funcs] == ["my_function"]
    assert count == 1
    assert [(i.name, i.memory_type, i.doc) for i in info_list] == [
        ("my_function", "numpy", "Custom thresholding function.")
    ]
    assert get_default_registry().call(
        "openhcs:my_function", np.array([[[0.1, 0.7]]])
    ).tolist() == [[[0.0, 0.7]]]
    assert manager.delete_custom_function("my_function") is True
    assert manager.list_custom_functions() == []


def test_validation_stages_as_documented():
    code = DOC_CODE.format(module="openhcs_plugins.decorators")
    assert validate_syntax(code).is_valid
    assert validate_imports(code).is_valid
    assert validate_decorator(code).is_valid

    syntax = validate_syntax("def f(:\n    pass\n")
    assert not syntax.is_valid and syntax.errors[0].line_number == 1
    assert syntax.errors[0].code_snippet.strip() == "def f(:"

    imports = validate_imports("import os\n")
    assert not imports.is_valid
    assert (
        "Dangerous import detected: 'os'. Module 'os' is not allowed in custom functions."
        in str(imports.errors[0])
    )

    missing = validate_decorator("def process(image):\n    return image\n")
    assert not missing.is_valid
    assert "No valid functions found with memory type decorators" in missing.errors[0].message
    assert "@numpy, @cupy, @torch" in missing.errors[0].message


def test_validate_function_signature_message_as_documented():
    from openhcs_plugins.decorators import numpy

    @numpy
    def process_image(img):
        return img

    result = validate_function(process_image)
    assert not result.is_valid
    assert (
        "Function 'process_image' first parameter is 'img', but must be 'image' "
        "(3D array: C, Y, X)." in result.errors[0].message
    )


def test_execution_error_message_as_documented(tmp_path):
    manager = CustomFunctionManager(tmp_path, registry=FunctionRegistry())
    code = DOC_CODE.format(module="openhcs_plugins.decorators") + "\nx = undefined_var\n"
    with pytest.raises(ValidationError) as caught:
        manager.register_from_code(code)
    assert "Code execution failed: NameError: name 'undefined_var' is not defined" in str(
        caught.value
    )


def test_template_api_as_documented():
    template = get_default_template()
    cupy_template = get_template_for_memory_type("cupy")
    torch_template = get_template_for_memory_type("torch")
    from openhcs_plugins.validation import validate_code

    for text, memory_type in (
        (template, "numpy"),
        (cupy_template, "cupy"),
        (torch_template, "torch"),
    ):
        result = validate_code(text)
        assert result.is_valid, result.errors
        assert result.functions[0].input_memory_type == memory_type
    assert AVAILABLE_MEMORY_TYPES == [
        "numpy",
        "cupy",
        "torch",
        "tensorflow",
        "jax",
        "pyclesperanto",
    ]


def test_signal_emitted_after_register_load_and_delete(tmp_path):
    calls = []

    def refresh_function_list():
        calls.append("refresh")

    custom_function_signals.functions_changed.connect(refresh_function_list)
    try:
        manager = CustomFunctionManager(tmp_path, registry=FunctionRegistry())
        manager.register_from_code(DOC_CODE.format(module="openhcs_plugins.decorators"))
        manager.load_all_custom_functions()
        manager.delete_custom_function("my_function")
    finally:
        custom_function_signals.functions_changed.disconnect(refresh_function_list)
    assert calls == ["refresh"] * 3


def test_register_function_with_openhcs_backend_gives_composite_key():
    from openhcs_plugins.decorators import numpy

    @numpy
    def my_function(image):
        return image * 2

    # Decorator sets required attributes, as the docs list them.
    assert my_function.input_memory_type == "numpy"
    assert my_function.output_memory_type == "numpy"
    assert my_function.backend == "numpy"
    register_function(my_function, backend="openhcs")
    assert "openhcs:my_function" in get_default_registry()
