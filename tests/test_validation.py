"""Static validation (validate_code and its stages), the policy object, and validate_function."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest

from openhcs_plugins.sources.candidate import Candidate, ParameterInfo, SourceKind, TrustLevel
from openhcs_plugins.validation import (
    ImportPolicy,
    ValidationError,
    ValidationResult,
    validate_code,
    validate_decorator,
    validate_function,
    validate_imports,
    validate_syntax,
)

ROOT = Path(__file__).resolve().parents[1]

HEADER = "from openhcs_plugins.memory import numpy\nimport numpy as np\n\n\n"

NO_FUNCTIONS = (
    "No valid functions found with memory type decorators. Functions must be decorated with "
    "one of: @numpy, @cupy, @torch, @tensorflow, @jax, @pyclesperanto"
)


def code(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def rules(result: ValidationResult) -> set[str]:
    return {e.rule for e in result.errors}


def function_code(body: str = "return image", params: str = "image", decorator: str = "@numpy"):
    return HEADER + f"{decorator}\ndef process({params}):\n    {body}\n"


# -- result and error types ------------------------------------------------------------------


def test_a_valid_function_gives_names_and_a_static_description():
    result = validate_code(
        code(
            '''
            from openhcs_plugins.memory import numpy
            from scipy import ndimage as ndi


            @numpy
            def blur(image, sigma: float = 1.0, mode: str = "reflect"):
                """Blur each plane."""
                return ndi.gaussian_filter(image, sigma=(0, sigma, sigma), mode=mode)
            '''
        )
    )
    assert result.is_valid, result.errors
    assert result.errors == () and result.warnings == ()
    assert result.function_names == ("blur",)
    (function,) = result.functions
    assert (function.name, function.line) == ("blur", 6)
    assert (function.input_memory_type, function.output_memory_type) == ("numpy", "numpy")
    assert function.contract == "FLEXIBLE"
    assert function.doc == "Blur each plane."
    assert function.parameters == (
        ParameterInfo("image", "POSITIONAL_OR_KEYWORD", None, None),
        ParameterInfo("sigma", "POSITIONAL_OR_KEYWORD", "1.0", "float"),
        ParameterInfo("mode", "POSITIONAL_OR_KEYWORD", "'reflect'", "str"),
    )


def test_result_is_frozen():
    result = validate_code(function_code())
    with pytest.raises(AttributeError):
        result.is_valid = False  # type: ignore[misc]


def test_error_string_names_file_line_snippet_and_hint():
    result = validate_code("import os\n", filename="/tmp/f.py")
    error = result.errors[0]
    # OpenHCS documents List[str] (issue 14); the item is a str carrying the finding's fields
    assert isinstance(error, str) and isinstance(error.error, ValidationError)
    assert error.filename == "/tmp/f.py" and error.line_number == 1
    assert error.code_snippet == "import os"
    assert error.rule == "import-not-allowed" and error.hint
    assert str(error) == (f"/tmp/f.py:1: {error.message} (import os) - {error.hint}")


def test_errors_join_as_text_and_keep_their_lines():
    bad = function_code(body="import os\n    return os.getcwd()")
    result = validate_code(bad, filename="/lab/bad.py")
    text = "\n".join(result.errors)  # what OpenHCS's dialog does
    assert text.splitlines()[0] == str(result.errors[0])
    assert all(e.line_number > 0 and f"/lab/bad.py:{e.line_number}:" in e for e in result.errors)
    copy = pickle.loads(pickle.dumps(result.errors[0]))
    assert copy == result.errors[0] and copy.rule == result.errors[0].rule
    assert copy.line_number == result.errors[0].line_number
    with pytest.raises(ValidationError) as raised:
        raise result.errors[0].error
    assert raised.value.line_number == result.errors[0].line_number


def test_validation_error_keeps_its_fields_through_pickle():
    error = ValidationError("msg", 3, "x = 1", rule="r", filename="f", function="g", hint="h")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.line_number, copy.code_snippet) == ("msg", 3, "x = 1")
    assert (copy.rule, copy.filename, copy.function, copy.hint) == ("r", "f", "g", "h")


def test_validation_error_positional_form_of_the_openhcs_docs():
    error = ValidationError("bad", 4, "x")
    assert (error.message, error.line_number, error.code_snippet, error.rule) == ("bad", 4, "x", "")
    assert str(error) == "line 4: bad (x)"


# -- messages as in the OpenHCS docs ------------------------------------------------------------


def test_first_parameter_message_matches_the_openhcs_docs():
    result = validate_code(HEADER + "@numpy\ndef process_image(img, sigma=1.0):\n    return img\n")
    (error,) = result.errors
    assert error.message == (
        "Function 'process_image' first parameter is 'img', but must be 'image' "
        "(3D array: C, Y, X)."
    )
    assert error.rule == "first-parameter" and error.function == "process_image"
    assert error.line_number == 6 and error.code_snippet == "def process_image(img, sigma=1.0):"
    assert "image" in error.hint


def test_a_function_without_parameters_is_refused():
    result = validate_code(HEADER + "@numpy\ndef process():\n    return 1\n")
    assert [e.message for e in result.errors] == [
        "Function 'process' has no parameters. First parameter must be 'image' (3D array: C, Y, X)."
    ]


def test_no_decorated_function_message_matches_the_openhcs_docs():
    result = validate_code("import numpy as np\n\n\ndef helper(image):\n    return image\n")
    (error,) = result.errors
    assert error.message == NO_FUNCTIONS and error.rule == "decorator"
    assert error.line_number == 4 and error.code_snippet == "def helper(image):"


def test_dangerous_import_message_matches_the_openhcs_docs():
    result = validate_code(function_code() + "import os\n")
    (error,) = result.errors
    assert (
        error.message
        == "Dangerous import detected: 'os'. Module 'os' is not allowed in custom functions."
    )


@pytest.mark.parametrize(
    "statement",
    [
        "import subprocess",
        "from shutil import rmtree",
        "import socket",
        "import urllib.request",
        "import http.client",
        "import glob",
        "import requests",
        "import sys",
    ],
)
def test_the_documented_blocklist_is_refused(statement):
    result = validate_code(function_code() + statement + "\n")
    assert rules(result) == {"import-not-allowed"}
    assert result.errors[0].message.startswith("Dangerous import detected:")


def test_every_finding_has_line_snippet_rule_and_hint():
    text = (
        function_code(body="return eval('1') + image.__class__ + np.f2py + getattr(image, 'x')")
        + "import pandas\n"
    )
    result = validate_code(text)
    assert len(result.errors) >= 5
    for error in result.errors:
        assert error.line_number > 0 and error.code_snippet and error.rule and error.hint


# -- syntax and encoding -----------------------------------------------------------------------


def test_syntax_error_carries_line_and_offending_line():
    result = validate_code("import numpy as np\n\ndef f(image:\n    return image\n")
    (error,) = result.errors
    assert error.rule == "syntax" and error.line_number == 3
    assert error.code_snippet == "def f(image:"
    assert error.message.startswith("Syntax error:")


def test_validate_syntax_checks_only_syntax():
    assert validate_syntax("import os\n").is_valid
    bad = validate_syntax("x = (\n")
    assert not bad.is_valid and bad.errors[0].rule == "syntax" and bad.errors[0].line_number == 1


def test_bytes_are_decoded_as_utf8():
    text = function_code(body="return image  # café")
    assert validate_code(text.encode("utf-8")).is_valid
    assert validate_code(b"\xef\xbb\xbf" + text.encode("utf-8")).is_valid


def test_non_utf8_bytes_are_refused_with_the_line():
    data = function_code().encode() + b"# caf\xe9\n"
    (error,) = validate_code(data).errors
    assert error.rule == "encoding" and error.line_number == 8


@pytest.mark.parametrize("as_bytes", [False, True])
@pytest.mark.parametrize("cookie", ["utf-7", "latin-1", "cp1252", "no-such-codec"])
def test_a_non_utf8_coding_cookie_is_refused(cookie, as_bytes):
    text = f"# -*- coding: {cookie} -*-\n" + function_code()
    result = validate_code(text.encode("utf-8") if as_bytes else text)
    assert rules(result) == {"encoding"}
    assert result.errors[0].line_number == 1


@pytest.mark.parametrize(
    "prefix",
    [
        b"\r# coding: utf-7\n",
        b"#!x\r# coding: utf-7\n",
        b"\x0c# coding: utf-7\n",
        b"#!\r\n# coding: utf-7\r\n",
        b"# vim: fileencoding=utf-8 coding=latin-1\n",
    ],
)
def test_cookies_behind_other_line_endings_are_found(prefix):
    # the tokenizer ends a line at a lone "\r" and honours the cookie there
    data = prefix + b"# +AAo-import os+AAo-\n" + function_code().encode()
    assert rules(validate_code(data)) == {"encoding"}
    assert rules(validate_code(data.decode())) == {"encoding"}


def test_a_utf8_coding_cookie_is_fine():
    assert validate_code("#!/usr/bin/env python\n# coding: utf-8\n" + function_code()).is_valid


def test_lone_surrogates_in_text_are_refused():
    result = validate_code(function_code(body="return image  # \udce9"))
    assert rules(result) == {"encoding"}


# -- fail closed -------------------------------------------------------------------------------


def test_a_700_deep_attribute_chain_is_too_complex_not_a_crash():
    result = validate_code(function_code(body="return image" + ".T" * 700))
    assert rules(result) == {"too-complex"}
    assert result.errors[0].line_number == 7


@pytest.mark.parametrize(
    "expression",
    ["-" * 700 + "image", "not " * 700 + "image", "image" + " + 1" * 5000],
)
def test_deeply_nested_expressions_are_refused(expression):
    result = validate_code(function_code(body=f"return {expression}"))
    assert not result.is_valid
    assert rules(result) <= {"too-complex", "syntax"}


def test_deep_brackets_are_a_syntax_error():
    result = validate_code(function_code(body="return " + "[" * 300 + "]" * 300))
    assert rules(result) == {"syntax"}


def test_size_and_node_limits_refuse_large_code():
    big = function_code() + "# padding\n" * 200_000
    assert rules(validate_code(big)) == {"too-complex"}
    small_policy = ImportPolicy(max_nodes=50)
    result = validate_code(
        Path(ROOT / "benchmarks/data/realistic_functions.py").read_text(), policy=small_policy
    )
    assert rules(result) == {"too-complex"}


@pytest.mark.parametrize("bad_input", [None, 42, ["import os"], object()])
def test_wrong_input_types_are_rejections_not_exceptions(bad_input):
    result = validate_code(bad_input)  # type: ignore[arg-type]
    assert not result.is_valid and result.errors[0].rule == "internal"


def test_an_unknown_trust_level_or_policy_is_a_rejection():
    assert not validate_code(function_code(), trust="root").is_valid  # type: ignore[arg-type]
    assert not validate_code(function_code(), policy="everything").is_valid  # type: ignore[arg-type]


def test_the_garbage_collector_state_is_restored():
    import gc

    assert gc.isenabled()
    validate_code(function_code())
    validate_code(function_code(body="return image" + ".T" * 700))
    assert gc.isenabled()
    gc.disable()
    try:
        validate_code(function_code())
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_empty_code_has_no_functions():
    result = validate_code("")
    assert [e.message for e in result.errors] == [NO_FUNCTIONS]


# -- decorators recognised by what they resolve to ----------------------------------------------

DECORATOR_FORMS = {
    "from_memory": ("from openhcs_plugins.memory import numpy", "@numpy", "numpy", "numpy"),
    "decorators_alias": (
        "from openhcs_plugins.decorators import numpy as np_dec",
        "@np_dec",
        "numpy",
        "numpy",
    ),
    "package": ("from openhcs_plugins import numpy", "@numpy", "numpy", "numpy"),
    "module_attribute": (
        "import openhcs_plugins.memory as memory",
        "@memory.torch",
        "torch",
        "torch",
    ),
    "dotted_module": ("import openhcs_plugins.memory", "@openhcs_plugins.memory.jax", "jax", "jax"),
    "called_bare": ("from openhcs_plugins.memory import numpy", "@numpy()", "numpy", "numpy"),
    "called_with_arguments": (
        "from openhcs_plugins.memory import torch",
        '@torch(output_type="numpy", contract="PURE_2D")',
        "torch",
        "numpy",
    ),
    "memory_types": (
        "from openhcs_plugins.memory import memory_types",
        '@memory_types("torch", "numpy")',
        "torch",
        "numpy",
    ),
    "memory_types_keywords": (
        "from openhcs_plugins.decorators import memory_types",
        '@memory_types(input_type="cupy", output_type="jax")',
        "cupy",
        "jax",
    ),
    "openhcs_memory": ("from openhcs.core.memory import numpy", "@numpy", "numpy", "numpy"),
    "openhcs_decorators": (
        "from openhcs.core.memory.decorators import pyclesperanto",
        "@pyclesperanto",
        "pyclesperanto",
        "pyclesperanto",
    ),
    "input_type_override": (
        "from openhcs_plugins.memory import numpy",
        '@numpy(input_type="torch", oom_recovery=False)',
        "torch",
        "torch",
    ),
}


@pytest.mark.parametrize("form", sorted(DECORATOR_FORMS))
def test_decorators_are_recognised_by_what_they_resolve_to(form):
    import_line, decorator, input_type, output_type = DECORATOR_FORMS[form]
    result = validate_code(
        f"{import_line}\n\n\n{decorator}\ndef process(image):\n    return image\n"
    )
    assert result.is_valid, result.errors
    (function,) = result.functions
    assert (function.input_memory_type, function.output_memory_type) == (input_type, output_type)


def test_contract_is_read_from_the_decorator():
    result = validate_code(
        "from openhcs_plugins.memory import torch\n\n\n"
        '@torch(output_type="numpy", contract="pure_2d")\ndef f(image):\n    return image\n'
    )
    assert result.functions[0].contract == "PURE_2D"


@pytest.mark.parametrize(
    "shadow",
    [
        "def numpy(f):\n    return f\n",
        "numpy = lambda f: f\n",
        "class numpy:\n    pass\n",
        "import numpy\n",
        "from numpy import random as numpy\n",
        "try:\n    pass\nexcept Exception as numpy:\n    pass\n",
    ],
)
def test_a_local_binding_that_shadows_the_decorator_is_not_a_decorator(shadow):
    text = (
        "from openhcs_plugins.memory import numpy\n"
        + shadow
        + ("\n\n@numpy\ndef process(image):\n    return image\n")
    )
    result = validate_code(text, trust=TrustLevel.TRUSTED)
    assert not result.is_valid
    decorator_errors = [e for e in result.errors if e.rule == "decorator"]
    assert any("shadows" in e.message or "rebinds" in e.message for e in decorator_errors), (
        result.errors
    )
    assert NO_FUNCTIONS in [e.message for e in result.errors]
    assert result.function_names == ()


def test_shadowing_by_import_explains_how_to_fix_it():
    # The OpenHCS torch template: the decorator import, then `import torch`.
    result = validate_code(
        "from openhcs.core.memory.decorators import torch\nimport torch\n\n\n"
        "@torch\ndef f(image):\n    return image\n"
    )
    error = next(e for e in result.errors if e.rule == "decorator")
    assert "line 1" in error.message and "line 2" in error.message
    assert "import torch as th" in error.hint


def test_a_function_local_import_does_not_shadow_the_decorator():
    result = validate_code(
        "from openhcs_plugins.memory import torch\n\n\n"
        "@torch\ndef f(image):\n    import torch\n    return torch.flip(image, dims=(0,))\n"
    )
    assert result.is_valid, result.errors


def test_a_decorator_that_is_not_imported_is_explained():
    result = validate_code("@numpy\ndef f(image):\n    return image\n")
    error = next(e for e in result.errors if e.message.startswith("Decorator"))
    assert "not imported" in error.message
    assert "from openhcs_plugins.memory import numpy" in error.hint


@pytest.mark.parametrize(
    "decorator, fragment",
    [
        ("@numpy(output_type=KIND)", "must be a literal string"),
        ('@numpy(output_type="numpyy")', "not valid"),
        ('@numpy(contract="SOMETIMES")', "not valid"),
        ('@numpy("numpy")', "by keyword"),
        ("@numpy(**options)", "'**' arguments"),
        ('@numpy(colour="red")', "unknown argument"),
        ("@numpy(oom_recovery=maybe)", "True or False"),
        ("@memory_types", "needs the memory types"),
        ("@memory_types()", "needs an input type"),
        ('@memory_types("torch", "numpy", "jax")', "at most two"),
    ],
)
def test_decorator_arguments_must_be_literal_and_valid(decorator, fragment):
    text = (
        "from openhcs_plugins.memory import numpy, memory_types\n"
        "KIND = 'numpy'\noptions = {}\nmaybe = True\n\n\n"
        f"{decorator}\ndef f(image):\n    return image\n"
    )
    result = validate_code(text, trust=TrustLevel.TRUSTED)
    messages = [e.message for e in result.errors if e.rule == "decorator"]
    assert any(fragment in m for m in messages), result.errors
    assert result.functions == ()


@pytest.mark.parametrize(
    "text, where",
    [
        ("class Box:\n    @numpy\n    def f(self, image):\n        return image\n", "a class"),
        (
            "def outer():\n    @numpy\n    def f(image):\n        return image\n    return f\n",
            "another function",
        ),
        ("if True:\n    @numpy\n    def f(image):\n        return image\n", "an if/try block"),
    ],
)
def test_decorated_functions_must_be_at_the_top_level(text, where):
    result = validate_code(HEADER + text)
    error = next(e for e in result.errors if e.rule == "decorator" and "top level" in e.message)
    assert where in error.message and error.function == "f"


def test_async_and_class_targets_and_double_decorators_are_refused():
    async_result = validate_code(HEADER + "@numpy\nasync def f(image):\n    return image\n")
    assert any("async def" in e.message for e in async_result.errors)
    class_result = validate_code(HEADER + "@numpy\nclass F:\n    pass\n")
    assert any("class 'F'" in e.message for e in class_result.errors)
    double = validate_code(
        "from openhcs_plugins.memory import numpy, torch\n\n\n"
        "@numpy\n@torch\ndef f(image):\n    return image\n"
    )
    assert any("2 memory-type decorators" in e.message for e in double.errors)


def test_a_function_bound_twice_is_refused():
    text = HEADER + "@numpy\ndef f(image):\n    return image\n\n\nf = 3\n"
    result = validate_code(text)
    (error,) = [e for e in result.errors if e.rule == "duplicate-function"]
    assert "lines 6, 10" in error.message


def test_validate_decorator_checks_decorators_and_first_parameters_only():
    assert validate_decorator(function_code(body="return eval('image')")).is_valid
    bad = validate_decorator("import os\ndef f(image):\n    return image\n")
    assert [e.message for e in bad.errors] == [NO_FUNCTIONS]


# -- static reading of functions ---------------------------------------------------------------


def test_parameters_of_every_kind_with_source_text():
    result = validate_code(
        HEADER
        + code(
            '''
            @numpy
            def f(image, /, size: tuple[int, int] = (3, 3), *extra: float,
                  mode: "str" = 'nearest', weights=np.float32, slice_by_slice: bool = False,
                  **options: int):
                """First line.

                More text.
                """
                return image
            '''
        )
    )
    assert result.is_valid, result.errors
    (function,) = result.functions
    assert function.parameters == (
        ParameterInfo("image", "POSITIONAL_ONLY", None, None),
        ParameterInfo("size", "POSITIONAL_OR_KEYWORD", "(3, 3)", "tuple[int, int]"),
        ParameterInfo("extra", "VAR_POSITIONAL", None, "float"),
        ParameterInfo("mode", "KEYWORD_ONLY", "'nearest'", "'str'"),
        ParameterInfo("weights", "KEYWORD_ONLY", "np.float32", None),
        ParameterInfo("options", "VAR_KEYWORD", None, "int"),
    )
    assert function.doc == "First line.\n\nMore text."


def test_static_parameters_match_the_loaded_function(tmp_path):
    from openhcs_plugins.execution.dispatch import exec_candidate
    from openhcs_plugins.registry import parameters_of

    text = HEADER + code(
        """
        @numpy
        def shift(image, dy: int = 1, dx: int = -2, mode: str = "wrap", scale: float = 0.5, *,
                  clip: bool = True, label=None):
            return np.roll(image, (dy, dx), axis=(1, 2)) * scale
        """
    )
    result = validate_code(text)
    assert result.is_valid, result.errors
    candidate = Candidate.from_code(text, source=SourceKind.FOLDER, path=tmp_path / "shift.py")
    module = exec_candidate(candidate)
    assert parameters_of(module.shift) == result.functions[0].parameters


def test_functions_are_listed_in_source_order():
    text = HEADER + "".join(f"@numpy\ndef f{i}(image):\n    return image\n\n\n" for i in (3, 1, 2))
    assert validate_code(text).function_names == ("f3", "f1", "f2")


def test_findings_name_the_enclosing_function():
    text = (
        function_code(body="return vars(image)")
        + "\n\n@numpy\ndef other(image):\n    return image\n"
    )
    (error,) = validate_code(text).errors
    assert error.function == "process" and error.rule == "denied-builtin"


# -- the policy at the user level ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body, rule",
    [
        ("return image._private", "underscore-attribute"),
        ("return image.__class__", "underscore-attribute"),
        ("return np.f2py", "denied-attribute"),
        ("return image.ctypes", "denied-attribute"),
        ("return image.load_state_dict", "denied-attribute"),
        ("f = getattr\n    return image", "denied-builtin"),
        ("return [eval][0]('1')", "denied-builtin"),
        ("return image.__name__", None),
        ("return type(image).__name__", None),
        ("input = image\n    return input", "denied-builtin"),
        ("return __builtins__", "dunder-name"),
        ('return "{0.shape}".format(image)', "format-attribute"),
        ('return "{0[1]} {:.2f}".format(image, 1.0)', None),
        # a name bound once to a literal is the literal (issue 13); anything else is not
        ("fmt = '{}'\n    return fmt.format(image)", None),
        ("fmt = '{0.__class__}'\n    return fmt.format(image)", "format-attribute"),
        ("fmt = str(image)\n    return fmt.format(image)", "format-attribute"),
        ("process.__name__ = 'x'\n    return image", "underscore-attribute"),
        ("np.mean = np.median\n    return image", "module-assignment"),
        ("np.typecodes['All'] = ''\n    return image", "module-assignment"),
        ("image.flags.writeable = False\n    return image", None),
        ("match image:\n        case object(shape=s):\n            return s", None),
        (
            "match image:\n        case object(__class__=c):\n            return c",
            "underscore-attribute",
        ),
    ],
)
def test_policy_rules_inside_a_function(body, rule):
    result = validate_code(function_code(body=body))
    if rule is None:
        assert result.is_valid, result.errors
    else:
        assert rule in rules(result), result.errors


@pytest.mark.parametrize(
    "statement, allowed",
    [
        ("from scipy import ndimage", True),
        ("import scipy.ndimage as ndi", True),
        ("from numpy.lib.stride_tricks import sliding_window_view", True),
        ("from skimage.filters import threshold_otsu", True),
        ("import math, cmath, functools, itertools, statistics", True),
        ("from typing import Optional", True),
        ("import torch as th", True),
        ("from torch.nn import functional", True),
        ("import scipy.io", False),
        ("from scipy import io", False),
        ("from numpy import lib", False),
        ("import numpy.f2py", False),
        ("from skimage import io", False),
        ("import pandas", False),
        ("from openhcs_plugins import registry", False),
        ("import numpy._core", False),
        ("from . import helpers", False),
    ],
)
def test_module_allowlist(statement, allowed):
    result = validate_code(statement + "\n" + function_code())
    assert result.is_valid is allowed, result.errors


def test_a_parent_package_is_only_a_way_to_its_allowed_submodules():
    ok = function_code(body="return scipy.ndimage.gaussian_filter(image, 1)")
    assert validate_code("import scipy.ndimage\n" + ok).is_valid
    passed_around = function_code(body="s = scipy\n    return s.ndimage.gaussian_filter(image, 1)")
    assert "import-not-allowed" in rules(validate_code("import scipy.ndimage\n" + passed_around))


def test_module_level_code_is_limited_to_definitions():
    assert validate_code(
        function_code()
        + "\nSIGMA = 2.0\nKERNEL = np.ones((3, 3)) / 9\nNAMES = ('a', 'b')\n"
        + 'if __name__ == "__main__":\n    print(process(np.zeros((1, 2, 2))))\n'
    ).is_valid
    for statement in (
        "print('x')",
        "np.random.seed(0)",
        "for i in range(3):\n    pass",
        "X = sorted(open('f'))",
        "with np.errstate():\n    pass",
    ):
        result = validate_code(function_code() + statement + "\n")
        assert "module-statement" in rules(result), statement


def test_definition_time_calls_are_limited_to_constructors():
    result = validate_code(
        function_code(params="image, table=dict(a=1), footprint=np.ones((3, 3))")
    )
    assert result.is_valid, result.errors
    # numpy's arithmetic computes and returns (issue 13: a kernel computed at module level)
    result = validate_code(function_code(params="image, value=np.median(np.ones(3))"))
    assert result.is_valid, result.errors
    # what changes the host's numpy state, or runs anything else, is still refused
    result = validate_code(function_code(params="image, value=np.seterr(all='ignore')"))
    assert "module-statement" in rules(result)
    result = validate_code(function_code(params="image, value=print('loaded')"))
    assert "module-statement" in rules(result)


@pytest.mark.parametrize(
    "body, rule",
    [
        ("return type(image).__name__", None),
        ("return type(image)(image)", None),
        ("return type('X', (), {})", "denied-builtin"),
        ("t = type\n    return t", "denied-builtin"),
        ("return type(type)('X', (object,), {})", "denied-builtin"),
        ("return {'__array_interface__': 1}", "dunder-name"),
        ("return dict(__array_interface__=1)", "dunder-name"),
        ("return {'__main__': 1}", "dunder-name"),
        ("class P:\n        __match_args__ = ('__class__',)\n    return P", "dunder-name"),
        ("table = {'open': 1, 'a b': 2}\n    return table['open'] + table['a b']", None),
        ("import typing\n    return typing.List['vars()']", "denied-builtin"),
        ("return list['np.ndarray']", None),
    ],
)
def test_class_creation_and_protocol_routes(body, rule):
    result = validate_code(function_code(body=body))
    if rule is None:
        assert result.is_valid, result.errors
    else:
        assert rule in rules(result), result.errors


def test_string_forward_references_in_aliases_are_checked():
    alias = 'from typing import Dict\nAlias = Dict[str, "{}"]\n'
    assert validate_code(alias.format("np.ndarray") + function_code()).is_valid
    result = validate_code(alias.format("__import__('os')") + function_code())
    assert "denied-builtin" in rules(result)
    assert result.errors[0].line_number == 2


def test_module_dunder_names_may_be_read_and_some_assigned():
    ok = "__all__ = ['process']\n__version__ = '1.0'\n" + function_code(body="return __name__")
    assert validate_code(ok).is_valid
    assert "dunder-name" in rules(validate_code("__name__ = 'x'\n" + function_code()))


def test_classes_made_inside_a_function_are_not_load_time_code():
    body = (
        "class Local:\n        level = np.median(image)\n\n"
        "        def scaled(self, k=np.mean(image)):\n            return self.level * k\n\n"
        "    return Local().scaled()"
    )
    assert validate_code(function_code(body=body)).is_valid
    top_level = (
        HEADER
        + "class Top:\n    level = np.set_printoptions(precision=1)\n\n\n"
        + ("@numpy\ndef f(image):\n    return image\n")
    )
    assert "module-statement" in rules(validate_code(top_level))


def test_class_hooks_are_refused_but_ordinary_dunder_methods_are_fine():
    ordinary = (
        HEADER
        + code(
            """
        class Stats:
            count: int = 0

            def __init__(self):
                self.count = 0

            def __len__(self):
                return self.count

            def __repr__(self):
                return f"Stats({self.count})"


        """
        )
        + "@numpy\ndef f(image):\n    return image\n"
    )
    assert validate_code(ordinary).is_valid
    hooks = ("__init_subclass__", "__set_name__", "__del__", "__reduce__", "__class_getitem__")
    for hook in (*hooks, "__array_interface__", "__cuda_array_interface__", "__dlpack__"):
        text = (
            HEADER
            + f"class C:\n    def {hook}(self, *a):\n        pass\n\n\n"
            + ("@numpy\ndef f(image):\n    return image\n")
        )
        assert "class-hook" in rules(validate_code(text)), hook


def test_decorators_are_limited_to_an_allowlist():
    allowed = (
        HEADER
        + code(
            """
        import functools
        from dataclasses import dataclass


        @dataclass(frozen=True)
        class P:
            x: int = 1

            @property
            def double(self):
                return self.x * 2


        @functools.lru_cache(maxsize=8)
        def kernel(n):
            return np.ones(n)


        """
        )
        + "@numpy\ndef f(image):\n    return image\n"
    )
    assert validate_code(allowed).is_valid
    refused = (
        HEADER + "def deco(f):\n    return f\n\n\n@deco\n@numpy\ndef f(image):\n    return image\n"
    )
    assert rules(validate_code(refused)) == {"decorator-not-allowed"}


def test_string_annotations_are_parsed_and_checked():
    result = validate_code(function_code(params='image, x: "np.ndarray | None" = None'))
    assert result.is_valid, result.errors
    bad = validate_code(function_code(params='image, x: "vars()" = None'))
    assert "denied-builtin" in rules(bad) and bad.errors[0].line_number == 6
    broken = validate_code(function_code(params='image, x: "not valid (" = None'))
    assert "annotation" in rules(broken)
    literal = validate_code(
        "from typing import Literal\n"
        + function_code(params='image, op: Literal["open", "eval", "a b"] = "open"')
    )
    assert literal.is_valid, literal.errors


def test_trusted_level_turns_policy_findings_into_warnings():
    text = "import os\n" + function_code(body="return eval('image')")
    user = validate_code(text, trust=TrustLevel.USER)
    trusted = validate_code(text, trust="trusted")
    strict = validate_code(text, trust=TrustLevel.STRICT)
    assert not user.is_valid and not strict.is_valid
    assert trusted.is_valid and trusted.function_names == ("process",)
    assert {w.rule for w in trusted.warnings} == {"import-not-allowed", "denied-builtin"}
    assert [e.message for e in strict.errors] == [e.message for e in user.errors]


def test_trusted_level_keeps_decorator_and_signature_errors():
    text = "import os\n" + HEADER + "@numpy\ndef f(img):\n    return img\n"
    result = validate_code(text, trust=TrustLevel.TRUSTED)
    assert rules(result) == {"first-parameter"}
    assert {w.rule for w in result.warnings} == {"import-not-allowed"}


def test_validate_imports_reports_policy_findings_only():
    assert validate_imports("def f(img):\n    return img\n").is_valid
    result = validate_imports("import os\n")
    assert [e.rule for e in result.errors] == ["import-not-allowed"]


def test_policy_additions_come_from_settings():
    text = "import pandas\n" + function_code(body="return np.load('x.npy')")
    assert not validate_code(text).is_valid
    wider = ImportPolicy.default().with_additions(modules=["pandas"], attributes=["numpy.load"])
    assert validate_code(text, policy=wider).is_valid
    assert validate_imports(text, wider).is_valid
    # the attribute addition does not open other excluded paths
    assert not validate_code(
        "import torch as th\n" + function_code(body="return th.load('x')"), policy=wider
    ).is_valid
    by_name = ImportPolicy.default().with_additions(attributes=["load_state_dict"])
    assert validate_code(
        function_code(body="return image.load_state_dict"), policy=by_name
    ).is_valid
    deco = ImportPolicy.default().with_additions(decorators=["numba.njit"], modules=["numba"])
    assert validate_code(
        "import numba\n" + HEADER + "@numba.njit\ndef k(x):\n    return x\n\n\n@numpy\n"
        "def f(image):\n    return image\n",
        policy=deco,
    ).is_valid


def test_default_policy_is_shared_and_immutable():
    policy = ImportPolicy.default()
    assert policy is ImportPolicy.default()
    with pytest.raises(AttributeError):
        policy.max_depth = 1  # type: ignore[misc]
    assert policy.path_status("numpy.linalg.norm") == "allowed"
    assert policy.path_status("numpy.f2py") == "denied"
    assert policy.path_status("numpy.lib.stride_tricks.as_strided") == "allowed"
    assert policy.path_status("scipy") == "parent"
    assert policy.path_status("pandas") == "unknown"


def test_templates_pass_validation():
    templates = pytest.importorskip("openhcs_plugins.templates")
    for memory_type in templates.AVAILABLE_MEMORY_TYPES:
        text = templates.get_template_for_memory_type(memory_type)
        result = validate_code(text)
        assert result.is_valid, (memory_type, result.errors)
        assert result.functions[0].input_memory_type == memory_type


def test_the_benchmark_file_passes_validation():
    text = (ROOT / "benchmarks/data/realistic_functions.py").read_text()
    assert len(text.splitlines()) >= 300
    result = validate_code(text)
    assert result.is_valid, result.errors
    assert len(result.functions) == 6


# -- validate_function ---------------------------------------------------------------------------


def _decorated(source: str):
    namespace: dict = {}
    exec(compile(HEADER + source, "<test>", "exec"), namespace)  # test code, not user code
    return namespace


def test_validate_function_accepts_a_decorated_function():
    func = _decorated("@numpy\ndef f(image, sigma=1.0):\n    return image\n")["f"]
    result = validate_function(func)
    assert result.is_valid and result.function_names == ("f",)


def test_validate_function_checks_the_first_parameter():
    func = _decorated("@numpy\ndef process_image(img):\n    return img\n")["process_image"]
    (error,) = validate_function(func).errors
    assert error.message == (
        "Function 'process_image' first parameter is 'img', but must be 'image' "
        "(3D array: C, Y, X)."
    )
    # the first line of the definition (its decorator), as Python records it
    assert (error.filename, error.line_number) == ("<test>", 5)


def test_validate_function_requires_memory_attributes():
    def plain(image):
        return image

    (error,) = validate_function(plain).errors
    assert "lacks required memory declarations" in error.message
    plain.input_memory_type = "numpy"  # type: ignore[attr-defined]
    plain.output_memory_type = "matlab"  # type: ignore[attr-defined]
    (error,) = validate_function(plain).errors
    assert "'matlab'" in error.message


def test_validate_function_checks_the_contract():
    func = _decorated("@numpy\ndef f(image):\n    return image\n")["f"]
    func.__openhcs_declared_processing_contract__ = "WHENEVER"
    assert not validate_function(func).is_valid


@pytest.mark.parametrize("name", ["../../x", "a b", "class", "", "x.y"])
def test_validate_function_refuses_names_that_are_not_identifiers(name):
    func = _decorated("@numpy\ndef f(image):\n    return image\n")["f"]
    func.__name__ = name
    result = validate_function(func)
    assert "function-name" in rules(result)


def test_validate_function_never_raises():
    class Hostile:
        def __getattr__(self, name):
            raise RuntimeError("boom")

        def __call__(self, image):
            return image

    assert not validate_function(Hostile()).is_valid
    assert not validate_function(42).is_valid  # type: ignore[arg-type]
    assert not validate_function(print).is_valid


def test_the_policy_is_a_frozen_value_without_caches():
    """Lookup tables and caches live in a separate index, not hidden inside the policy."""
    import dataclasses

    policy = ImportPolicy.default().with_additions(modules=["pandas"])
    assert validate_imports("import pandas\nimport os\n", policy).errors
    assert set(vars(policy)) == {f.name for f in dataclasses.fields(policy)}
    assert not any(isinstance(value, (dict, list, set)) for value in vars(policy).values())
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert policy.path_status("pandas.DataFrame") == "allowed"


FACTORY_MODULE = code(
    """
    from openhcs_plugins.memory import numpy
    import numpy as np
    from scipy import ndimage as ndi

    SIZE = 3
    table: dict = {}


    @numpy
    def blur(image):
        return ndi.uniform_filter(image, SIZE)


    def make(size):
        @numpy
        def f(image):
            return image * size

        return f
    """
)


def test_validate_code_reads_the_module_facts_in_the_same_pass():
    assert validate_code(FACTORY_MODULE).module is None  # only when asked for
    facts = validate_code(FACTORY_MODULE, module_facts=True).module
    assert facts is not None
    assert facts.makes_functions_at_import
    assert facts.imported_names == {"numpy", "np", "ndi"}
    assert dict(facts.binding_lines) == {"SIZE": 5, "table": 6}
    static = validate_code(HEADER + "@numpy\ndef f(image):\n    return image\n", module_facts=True)
    assert static.is_valid and static.module is not None
    assert not static.module.makes_functions_at_import
    # no facts from text that could not be read to the end
    assert validate_code("def f(:\n", module_facts=True).module is None


_CALL_SHAPES_HEAD = (
    "from openhcs_plugins.decorators import numpy\nimport numpy as np\nimport enum\n"
)


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (
            "t = np.typecodes\n@numpy\ndef f(image):\n    t.update({})\n    return image\n",
            "module-assignment",
        ),
        (
            "from numpy import sctypeDict\n@numpy\ndef f(image):\n    sctypeDict.pop('f8')\n"
            "    return image\n",
            "module-assignment",
        ),
        (
            "@numpy\ndef f(image):\n    np.recarray((1,), object, image)\n    return image\n",
            "array-buffer",
        ),
        (
            "@numpy\ndef f(image):\n    np.chararray((1,), buffer=image)\n    return image\n",
            "array-buffer",
        ),
        (
            "@numpy\ndef f(image):\n    enum.IntEnum('E', names='_ignore_ a')\n    return image\n",
            "enum-functional",
        ),
        (
            "@numpy\ndef f(image):\n    enum.Flag('E', 'a', qualname='x.y')\n    return image\n",
            "enum-functional",
        ),
        (
            "import scipy.stats\nclass D(scipy.stats.rv_continuous):\n    _x: str = 'y'\n"
            "@numpy\ndef f(image):\n    return image\n",
            "class-private",
        ),
    ],
)
def test_call_shapes_that_reach_the_host_are_refused(body: str, rule: str) -> None:
    result = validate_code(_CALL_SHAPES_HEAD + body)
    assert rule in [e.rule for e in result.errors], result.errors


@pytest.mark.parametrize(
    "body",
    [
        "@numpy\ndef f(image):\n    d = {}\n    d.update(a=1)\n    d.pop('a')\n    return image\n",
        "@numpy\ndef f(image: np.ndarray) -> np.ndarray:\n    out = np.ndarray(image.shape)\n"
        "    out[...] = image\n    return out\n",
        "Mode = enum.Enum('Mode', 'mean max')\n@numpy\ndef f(image, m: Mode = Mode.mean):\n"
        "    return image\n",
        "import scipy.stats\nclass D(scipy.stats.rv_continuous):\n    def _pdf(self, x):\n"
        "        return np.exp(-x)\n@numpy\ndef f(image):\n    return image\n",
        "class Own:\n    _cache = None\n@numpy\ndef f(image):\n    return image\n",
    ],
)
def test_the_same_calls_on_the_files_own_values_are_accepted(body: str) -> None:
    result = validate_code(_CALL_SHAPES_HEAD + body)
    assert result.is_valid, result.errors


def test_the_new_lint_rules_are_warnings_in_installed_packages() -> None:
    code = _CALL_SHAPES_HEAD + (
        "@numpy\ndef f(image):\n    np.ndarray((1,), object, image)\n"
        "    enum.Enum('E', 'a', module='x')\n    return image\n"
    )
    trusted = validate_code(code, trust="trusted")
    assert trusted.is_valid
    assert {w.rule for w in trusted.warnings} == {"array-buffer", "enum-functional"}
    assert {e.rule for e in validate_code(code).errors} == {"array-buffer", "enum-functional"}
