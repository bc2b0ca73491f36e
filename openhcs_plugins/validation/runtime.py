"""Runtime checks on a loaded callable: what the static pass cannot see once code has run.

This module owns :func:`validate_function`: a plain identifier as the function's name, the
first parameter ``image``, valid memory-type declarations and a known processing contract. It
imports only the standard library, :mod:`openhcs_plugins.memory.types` (the decorator contract),
:mod:`.findings` and :mod:`openhcs_plugins.errors` (to locate the function's line).
"""

from __future__ import annotations

import inspect
import keyword
from collections.abc import Callable
from typing import Any

from openhcs_plugins.errors import function_location
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES, CONTRACT_ATTRIBUTE, CONTRACTS
from openhcs_plugins.validation.findings import ValidationError, ValidationResult

__all__ = ["validate_function"]


def validate_function(func: Callable[..., Any]) -> ValidationResult:
    """Runtime checks on a loaded callable: a plain identifier as its name, first parameter
    ``image``, valid ``input_memory_type``/``output_memory_type`` and processing contract.

    Never raises: an object that cannot even be inspected is refused with a message.
    """
    try:
        return _validate_function(func)
    except Exception as exc:
        error = ValidationError(
            f"The function could not be checked ({type(exc).__name__}: {exc}).",
            rule="internal",
            hint="Register a plain function decorated with a memory-type decorator.",
        )
        return ValidationResult(False, (error,), (), ())


def _validate_function(func: Any) -> ValidationResult:
    errors: list[ValidationError] = []
    warnings: list[ValidationError] = []
    raw_name = getattr(func, "__name__", None)
    name = raw_name if isinstance(raw_name, str) else repr(raw_name)
    filename, line, snippet = function_location(func)

    def error(rule: str, message: str, hint: str) -> None:
        errors.append(
            ValidationError(
                message,
                line,
                snippet,
                rule=rule,
                filename=filename,
                function=name if isinstance(raw_name, str) else "",
                hint=hint,
            )
        )

    if not callable(func):
        error(
            "decorator",
            f"Object {name} ({type(func).__name__}) is not callable.",
            "Register a function.",
        )
        return ValidationResult(False, tuple(errors), (), ())
    if not isinstance(raw_name, str) or not raw_name.isidentifier() or keyword.iskeyword(raw_name):
        error(
            "function-name",
            f"Function name {raw_name!r} is not a plain Python identifier; hosts use the name as "
            "a registry key and a file name.",
            "Define the function with 'def name(...)' and do not change its __name__.",
        )
    try:
        parameters = list(inspect.signature(func).parameters)
    except (TypeError, ValueError) as exc:
        error(
            "first-parameter",
            f"Function '{name}' has no readable signature ({exc}).",
            "Register a plain Python function.",
        )
        parameters = None
    if parameters is not None:
        if not parameters:
            error(
                "first-parameter",
                f"Function '{name}' has no parameters. First parameter must be 'image' "
                "(3D array: C, Y, X).",
                f"Write 'def {name}(image, ...)'.",
            )
        elif parameters[0] != "image":
            error(
                "first-parameter",
                f"Function '{name}' first parameter is '{parameters[0]}', but must be 'image' "
                "(3D array: C, Y, X).",
                "Rename the first parameter to 'image'.",
            )
    missing = [
        attr
        for attr in ("input_memory_type", "output_memory_type")
        if getattr(func, attr, None) is None
    ]
    if missing:
        error(
            "decorator",
            f"Function '{name}' lacks required memory declarations {tuple(missing)!r}. Use a "
            "memory-type decorator such as @numpy or @cupy.",
            "Decorate it: 'from openhcs_plugins.memory import numpy' and '@numpy'.",
        )
    for attr in ("input_memory_type", "output_memory_type"):
        value = getattr(func, attr, None)
        if value is not None and (
            not isinstance(value, str) or value not in AVAILABLE_MEMORY_TYPES
        ):
            error(
                "decorator",
                f"Function '{name}' has {attr}={value!r}, which is not a memory type.",
                "Use one of: " + ", ".join(AVAILABLE_MEMORY_TYPES) + ".",
            )
    contract = getattr(func, CONTRACT_ATTRIBUTE, "FLEXIBLE")
    if not isinstance(contract, str) or contract not in CONTRACTS:
        error(
            "decorator",
            f"Function '{name}' declares the processing contract {contract!r}, which is not one "
            "of " + ", ".join(CONTRACTS) + ".",
            'Pass contract="FLEXIBLE", "PURE_3D", "PURE_2D" or "VOLUMETRIC_TO_SLICE".',
        )
    return ValidationResult(
        is_valid=not errors,
        errors=tuple(errors),
        warnings=tuple(warnings),
        function_names=(raw_name,) if isinstance(raw_name, str) else (),
    )
