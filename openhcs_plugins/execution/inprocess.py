"""Running validated folder and editor text as a module in this process.

The lowest step of execution, shared by :mod:`openhcs_plugins.execution.dispatch` (which
decides between running here and running isolated), the strict proxies
(:mod:`openhcs_plugins.execution.proxy`) and the worker's job
(:mod:`openhcs_plugins.execution.job`): it owns the error type, the module names executed code
gets and the OpenHCS import aliases. It imports ``candidate`` and ``memory.types`` (the rest of
``memory`` when code runs); nothing of the execution layer above it.

Only text that passed :func:`openhcs_plugins.validation.validate_code` comes here, and exactly
that text is compiled. Code written for OpenHCS (``from openhcs.core.memory import numpy`` or
``.decorators``, ``openhcs.core.pipeline.function_contracts``,
``openhcs.processing.materialization``, the ``ProcessingContract`` of OpenHCS's function
registry) runs unchanged: those module names (:data:`OPENHCS_ALIASES`) resolve to this
package's modules inside the executed code, without installing a fake ``openhcs`` package for
the whole process.
"""

from __future__ import annotations

import builtins
import importlib
import linecache
import sys
import types
from collections.abc import Callable
from typing import Any

from openhcs_plugins.errors import OpenHCSPluginsError, source_line, traceback_line
from openhcs_plugins.memory.types import OPENHCS_CONTRACT_MODULE
from openhcs_plugins.sources.candidate import Candidate, StaticFunction

__all__ = [
    "MODULE_PREFIX",
    "OPENHCS_ALIASES",
    "CodeExecutionError",
    "decorated_function",
    "exec_module",
    "module_name_for",
]

#: OpenHCS module names that resolve to this package's modules inside executed code (imported
#: when executed code asks: registering a folder file for a listing loads no memory module).
OPENHCS_ALIASES: dict[str, str] = {
    "openhcs.core.memory": "openhcs_plugins.memory",
    "openhcs.core.memory.decorators": "openhcs_plugins.decorators",
    # OpenHCS's templates and backends declare artifacts and contracts through these
    "openhcs.core.pipeline.function_contracts": "openhcs_plugins.artifacts",
    "openhcs.processing.materialization": "openhcs_plugins.artifacts",
    OPENHCS_CONTRACT_MODULE: "openhcs_plugins.memory.types",
}

#: Parent package of the modules folder and editor code is executed as.
MODULE_PREFIX = "openhcs_plugins_custom"


class CodeExecutionError(OpenHCSPluginsError, RuntimeError):
    """Validated code raised while it was executed (``subject`` and ``path``: the file)."""

    def __init__(
        self, filename: str, message: str, line_number: int = 0, snippet: str = ""
    ) -> None:
        self.filename = filename
        self.message = message
        self.line_number = line_number
        self.code_snippet = snippet
        where = f"{filename}:{line_number}" if line_number else filename
        text = f"{where}: Code execution failed: {message}"
        if snippet:
            text += f"\n    {snippet.strip()}"
        super().__init__(text, subject=filename, path=filename, line=line_number)


def _alias_tree() -> types.ModuleType:
    """``import openhcs.core.memory`` binds ``openhcs``; build that small attribute tree.

    Each aliased name is a new module holding the public names of its target (so nothing is
    set on this package's own modules); the names between them are empty modules.
    """
    nodes: dict[str, types.ModuleType] = {}

    def node(name: str) -> types.ModuleType:
        module = nodes.get(name)
        if module is None:
            module = nodes[name] = types.ModuleType(name)
            parent, _, leaf = name.rpartition(".")
            if parent:
                setattr(node(parent), leaf, module)
        return module

    for alias, target in OPENHCS_ALIASES.items():
        real = importlib.import_module(target)
        public = getattr(real, "__all__", None) or [k for k in vars(real) if k[:1] != "_"]
        node(alias).__dict__.update({k: getattr(real, k) for k in public})
    return nodes["openhcs"]


def _compat_import(
    name: str,
    globals: dict[str, Any] | None = None,
    locals: dict[str, Any] | None = None,
    fromlist: tuple[str, ...] | list[str] | None = (),
    level: int = 0,
) -> Any:
    if level == 0 and name in OPENHCS_ALIASES:
        return importlib.import_module(OPENHCS_ALIASES[name]) if fromlist else _alias_tree()
    return builtins.__import__(name, globals, locals, fromlist or (), level)


def _builtins() -> dict[str, Any]:
    namespace = dict(builtins.__dict__)
    namespace["__import__"] = _compat_import
    return namespace


def module_name_for(candidate: Candidate) -> str:
    """``openhcs_plugins_custom.<file stem>`` for folder files; for editor code
    ``openhcs_plugins_custom._editor_<sha256 prefix>``, so each draft keeps its own module (and
    its functions keep pickling by reference after another draft runs)."""
    if candidate.path is not None:
        return f"{MODULE_PREFIX}.{candidate.path.stem}"
    return f"{MODULE_PREFIX}._editor_{candidate.sha256[:12]}"


def exec_module(candidate: Candidate) -> types.ModuleType:
    """Execute a validated candidate's text in this process as a module and return it.

    The module is placed in ``sys.modules`` under :func:`module_name_for` so that its functions
    pickle by reference in this process and tracebacks show the real file and lines. Whether the
    text may run here (its trust level) is the caller's decision
    (:func:`openhcs_plugins.execution.dispatch.exec_candidate`).
    """
    filename = candidate.filename
    name = module_name_for(candidate)
    module = types.ModuleType(name)
    module.__file__ = filename
    module.__dict__["__builtins__"] = _builtins()
    # Register the source so tracebacks and inspect.getsource work for editor code too.
    lines = candidate.text.splitlines(keepends=True)
    linecache.cache[filename] = (len(candidate.text), None, lines, filename)
    try:
        code = compile(candidate.text, filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except SyntaxError as exc:
        raise CodeExecutionError(
            filename, f"SyntaxError: {exc.msg}", exc.lineno or 0, exc.text or ""
        ) from exc
    except BaseException as exc:
        from openhcs_plugins._usercode import escape

        if escape(filename, exc) is exc:
            raise  # a real Ctrl-C stops the command; user code's own raise is its error
        line = traceback_line(exc, filename)
        snippet = source_line(candidate.text, line)
        raise CodeExecutionError(filename, f"{type(exc).__name__}: {exc}", line, snippet) from exc
    _parent_package().__dict__[name.rpartition(".")[2]] = module
    sys.modules[name] = module
    return module


def _parent_package() -> types.ModuleType:
    """The ``openhcs_plugins_custom`` package the executed modules live in.

    ``pickle`` (and OpenHCS's workers) import a function's module by name, which imports the
    parent first; it has no files of its own (an empty ``__path__``), only these modules.
    """
    package = sys.modules.get(MODULE_PREFIX)
    if package is None:
        package = types.ModuleType(MODULE_PREFIX, "Folder and editor code run by openhcs-plugins.")
        package.__path__ = []  # type: ignore[attr-defined]
        sys.modules[MODULE_PREFIX] = package
    return package


def decorated_function(
    module: types.ModuleType, function: StaticFunction, filename: str
) -> Callable[..., Any]:
    """The live callable for a statically found function, checked against what was read."""
    from openhcs_plugins.memory import is_memory_decorated

    obj = module.__dict__.get(function.name)
    if obj is None or not is_memory_decorated(obj):
        raise CodeExecutionError(
            filename,
            f"after running the file, {function.name!r} is not a memory-decorated function "
            "(was it rebound after its definition?)",
            function.line,
        )
    if obj.__name__ != function.name:
        raise CodeExecutionError(
            filename,
            f"function {function.name!r} renamed itself to {obj.__name__!r}; "
            "functions must keep their own name",
            function.line,
        )
    return obj
