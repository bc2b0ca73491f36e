"""Strict functions in the host: proxies whose calls run in a warm isolated worker.

:func:`isolated_module` is what executing a ``strict`` candidate returns: a module of proxies
with the signatures of the static reading (the host never executes the text, not even to read
them), each calling an :class:`~openhcs_plugins.execution.runner.IsolatedRunner`. A proxy keeps
its function's name, module, memory types and contract, so it registers and pickles by
reference like the function itself.
"""

from __future__ import annotations

import ast
import inspect
import types
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from openhcs_plugins.errors import source_line
from openhcs_plugins.execution.errors import IsolationError, LoadFailed
from openhcs_plugins.execution.inprocess import CodeExecutionError, module_name_for
from openhcs_plugins.execution.limits import IsolationLimits
from openhcs_plugins.execution.runner import IsolatedRunner
from openhcs_plugins.sources.candidate import Candidate, StaticFunction

__all__ = ["is_isolated", "isolated_module"]


class _SourceText:
    """A default value shown as its source text (the real value lives in the worker)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _default(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _SourceText(text)


def _signature(function: StaticFunction) -> inspect.Signature:
    """The function's signature from its static reading, plus the injected
    ``slice_by_slice`` like the decorators add it."""
    kinds = inspect.Parameter
    params: list[inspect.Parameter] = []
    if function.static_signature and function.parameters:
        for p in function.parameters:
            params.append(
                kinds(
                    p.name,
                    getattr(kinds, p.kind),
                    default=kinds.empty if p.default is None else _default(p.default),
                    annotation=kinds.empty if p.annotation is None else p.annotation,
                )
            )
    else:
        params = [
            kinds("image", kinds.POSITIONAL_OR_KEYWORD),
            kinds("args", kinds.VAR_POSITIONAL),
            kinds("kwargs", kinds.VAR_KEYWORD),
        ]
    if not any(p.name == "slice_by_slice" for p in params):
        injected = kinds("slice_by_slice", kinds.KEYWORD_ONLY, default=False, annotation=bool)
        if params and params[-1].kind is kinds.VAR_KEYWORD:
            params.insert(len(params) - 1, injected)
        else:
            params.append(injected)
    try:
        return inspect.Signature(params)
    except (ValueError, TypeError):
        return inspect.Signature(
            [
                kinds("image", kinds.POSITIONAL_OR_KEYWORD),
                kinds("args", kinds.VAR_POSITIONAL),
                kinds("slice_by_slice", kinds.KEYWORD_ONLY, default=False, annotation=bool),
                kinds("kwargs", kinds.VAR_KEYWORD),
            ]
        )


def is_isolated(func: Any) -> bool:
    """True for a strict function's proxy (its calls run in an isolated worker)."""
    return bool(getattr(func, "__openhcs_isolated__", False))


def _proxy(
    runner: IsolatedRunner, function: StaticFunction, module_name: str
) -> Callable[..., Any]:
    from openhcs_plugins.memory.convert import convert_memory
    from openhcs_plugins.memory.detect import memory_type_of_type
    from openhcs_plugins.memory.types import CONTRACT_ATTRIBUTE, DECORATED_MARKER

    signature = _signature(function)
    name = function.name
    output = function.output_memory_type

    def proxy(*args: Any, **kwargs: Any) -> Any:
        if function.static_signature:
            signature.bind(*args, **kwargs)
        if args:
            image, rest = args[0], args[1:]
        elif "image" in kwargs:
            image, rest = kwargs.pop("image"), ()
        else:
            raise TypeError(f"{name}() missing required argument: 'image'")
        if kwargs.get("slice_by_slice") is False:
            del kwargs["slice_by_slice"]
        result = runner.call_function(name, image, *rest, **kwargs)
        if output == "numpy":
            return result
        if type(result) is tuple and result:
            head = result[0]
            if memory_type_of_type(type(head)) is not None:
                return (convert_memory(head, output), *result[1:])
            return result
        if memory_type_of_type(type(result)) is not None:
            return convert_memory(result, output)
        return result

    proxy.__name__ = name
    proxy.__qualname__ = name
    proxy.__module__ = module_name
    proxy.__doc__ = function.doc or None
    proxy.__signature__ = signature  # type: ignore[attr-defined]
    proxy.input_memory_type = function.input_memory_type  # type: ignore[attr-defined]
    proxy.output_memory_type = output  # type: ignore[attr-defined]
    proxy.backend = function.input_memory_type  # type: ignore[attr-defined]
    proxy.__openhcs_isolated__ = True  # type: ignore[attr-defined]
    proxy.__openhcs_isolated_runner__ = runner  # type: ignore[attr-defined]
    setattr(proxy, CONTRACT_ATTRIBUTE, function.contract)
    setattr(proxy, DECORATED_MARKER, True)
    return proxy


def isolated_module(
    candidate: Candidate,
    functions: Sequence[StaticFunction] | None = None,
    *,
    limits: IsolationLimits | None = None,
) -> types.ModuleType:
    """A module of proxies for a ``strict`` candidate: the code runs only in a worker.

    The host never executes the text, not even to read signatures (they come from the static
    reading). The worker is started now, so that an error at load time is reported like one
    in the host would be
    (:class:`~openhcs_plugins.execution.inprocess.CodeExecutionError`); it stays warm for the
    candidate's calls and is shut down after ``idle_seconds`` (default 60) idle.
    """
    filename = candidate.filename
    if functions is None:
        from openhcs_plugins.config import load_settings
        from openhcs_plugins.validation import validate_code

        settings = load_settings()
        result = validate_code(
            candidate.text,
            trust=candidate.trust,
            policy=settings.import_policy(),
            filename=filename,
        )
        # a function with another first parameter is refused alone (loading/examine.py)
        blocking = [e for e in result.errors if e.rule != "first-parameter"]
        if blocking:
            first = blocking[0]
            raise CodeExecutionError(
                filename,
                f"strict code must pass validation first: {first.message}",
                first.line_number,
                first.code_snippet,
            )
        functions = result.functions
        if limits is None:
            limits = IsolationLimits.from_settings(settings)
    if limits is None:
        limits = IsolationLimits.from_settings()
    if limits.idle_seconds is None:
        limits = replace(limits, idle_seconds=60.0)
    name = module_name_for(candidate)
    # one warm worker per memory type serves every strict file (execution/pool.py)
    pool = "+".join(sorted({f.input_memory_type for f in functions})) or "numpy"
    runner = IsolatedRunner(candidate.text, filename=filename, limits=limits, shared=pool)
    try:
        found = runner.functions
    except LoadFailed as exc:
        line = exc.line_number
        raise CodeExecutionError(
            filename, exc.message, line, source_line(candidate.text, line)
        ) from exc
    except IsolationError as exc:
        raise CodeExecutionError(filename, str(exc)) from exc
    module = types.ModuleType(name)
    module.__file__ = filename
    for function in functions:
        info = found.get(function.name)
        if info is None:
            runner.close()
            raise CodeExecutionError(
                filename,
                f"after running the file in the isolated worker, {function.name!r} is not a "
                "memory-decorated function (was it rebound after its definition?)",
                function.line,
            )
        declared = (info.input_memory_type, info.output_memory_type, info.contract)
        read = (function.input_memory_type, function.output_memory_type, function.contract)
        if declared != read:
            runner.close()
            raise CodeExecutionError(
                filename,
                f"{function.name!r} declares {declared[0]} -> {declared[1]} ({declared[2]}) "
                f"when run, but its source reads {read[0]} -> {read[1]} ({read[2]})",
                function.line,
            )
        module.__dict__[function.name] = _proxy(runner, function, name)
    module.__dict__["__openhcs_isolated_runner__"] = runner
    return module
