"""Examination: validate one candidate and say which of its functions can be registered.

:func:`examine` runs the one validating pass (:func:`openhcs_plugins.validation.validate_code`
with ``module_facts=True``) at the candidate's trust level and turns its findings into
:class:`~openhcs_plugins.sources.problem.Problem` objects. **Functions made at import time**
(``blur = make_filter(3)``) cannot be read statically: a package's module is imported (only that
one) when its source defines no decorated function, when a memory-type decorator is used there
other than on a module-level ``def``, or when the entry point names the attribute
(``module:blur``). Their info says ``signature_from: runtime``.

It imports :mod:`openhcs_plugins.sources`, :mod:`.discovery`, the registry's key helpers and, when
it runs, the validator and the memory module.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openhcs_plugins.errors import traceback_line
from openhcs_plugins.loading.discovery import Discovery
from openhcs_plugins.registry import make_key, parameters_of
from openhcs_plugins.sources.candidate import Candidate, SourceKind, StaticFunction
from openhcs_plugins.sources.problem import Problem

if TYPE_CHECKING:
    import ast

    from openhcs_plugins.validation import ModuleFacts

__all__ = ["examine", "makes_functions_at_import"]


def makes_functions_at_import(tree: ast.Module, text: str | None = None) -> bool:
    """True when a memory-type decorator is used other than on a module-level ``def``.

    :func:`examine` reads this from the validating pass
    (``validate_code(..., module_facts=True)``); this is for a caller that holds a tree.
    """
    from openhcs_plugins.validation import makes_functions_at_import as read

    return read(tree, text)


def _runtime_function(name: str, obj: Any, line: int) -> StaticFunction:
    from openhcs_plugins.memory import CONTRACT_ATTRIBUTE

    return StaticFunction(
        name=name,
        line=line,
        input_memory_type=obj.input_memory_type,
        output_memory_type=obj.output_memory_type,
        contract=getattr(obj, CONTRACT_ATTRIBUTE, "FLEXIBLE"),
        parameters=parameters_of(obj),
        doc=inspect.getdoc(obj) or "",
        static_signature=False,
    )


def _discover_by_import(
    candidate: Candidate, module_facts: ModuleFacts, known: set[str]
) -> tuple[list[StaticFunction], list[Problem], list[Problem]]:
    """Import the candidate's module (only this one) and read the functions it made."""
    from openhcs_plugins.memory import is_memory_decorated

    assert candidate.module is not None
    try:
        module = importlib.import_module(candidate.module)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        line = _traceback_line(exc, candidate.path)
        return (
            [],
            [
                Problem.for_candidate(
                    candidate,
                    f"importing {candidate.module} raised {type(exc).__name__}: {exc}",
                    kind="import",
                    line=line,
                )
            ],
            [],
        )
    imported = module_facts.imported_names
    lines = module_facts.binding_lines
    if candidate.attribute is not None:
        names = [candidate.attribute]
    else:
        names = [
            name
            for name in vars(module)
            if not name.startswith("_") and name not in imported and name not in known
        ]
    functions: list[StaticFunction] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for name in names:
        obj = getattr(module, name, None)
        if not is_memory_decorated(obj):
            if candidate.attribute is not None:
                problems.append(
                    Problem.for_candidate(
                        candidate,
                        f"{candidate.module}.{name} is "
                        + ("missing" if obj is None else "not a memory-decorated function"),
                        kind="not-decorated",
                        key=make_key(candidate.namespace, name),
                    )
                )
            continue
        code = getattr(inspect.unwrap(obj), "__code__", None)
        line = lines.get(name, 0)
        if not line and code is not None and code.co_filename == str(candidate.path):
            line = code.co_firstlineno
        try:
            functions.append(_runtime_function(name, obj, line))
        except (TypeError, ValueError) as exc:
            problems.append(
                Problem.for_candidate(
                    candidate,
                    f"cannot read the signature of {name}: {exc}",
                    kind="signature",
                    line=line or None,
                    key=make_key(candidate.namespace, name),
                )
            )
            continue
        if obj.__name__ != name:
            warnings.append(
                Problem.for_candidate(
                    candidate,
                    f"{name}.__name__ is {obj.__name__!r}; OpenHCS imports functions by module "
                    "and name, so the factory should set __name__ (and __qualname__) to "
                    f"{name!r}",
                    kind="name",
                    line=line or None,
                    key=make_key(candidate.namespace, name),
                    hint="set f.__name__ = f.__qualname__ = name in the factory",
                )
            )
    return functions, problems, warnings


def _traceback_line(exc: BaseException, path: Path | None) -> int | None:
    if isinstance(exc, SyntaxError):
        return exc.lineno
    if path is None:
        return None
    return traceback_line(exc, str(path)) or None


def _as_problem(
    candidate: Candidate, error: Any, names: set[str] | frozenset[str], kind: str = ""
) -> Problem:
    """A validator finding (a ``ValidationError``) as a problem of ``candidate``.

    ``names`` are the functions the validator found: a finding inside one of them names its key.
    """
    key = make_key(candidate.namespace, error.function) if error.function in names else None
    return Problem.from_finding(candidate, error, key=key, kind=kind)


def examine(candidate: Candidate, policy: Any = None, *, import_modules: bool = True) -> Discovery:
    """Validate one candidate and say which of its functions can be registered.

    Folder and editor files are all or nothing, as their code runs as one text, except that a
    function whose first parameter is not ``image`` is refused alone. For packages
    (trusted by default) a finding about one function refuses only that function, and a
    finding about the module (syntax, encoding, size) refuses the module. Functions made at
    import time are found by importing the package's module (see the module docstring); the
    validator's "decorated function inside another function" and "no decorated function"
    findings then give way to what the import found. ``import_modules=False`` (archives that
    are not installed) never imports; those findings then stay.
    """
    from openhcs_plugins.validation import validate_code

    result = validate_code(
        candidate.text,
        trust=candidate.trust,
        policy=policy,
        filename=candidate.filename,
        module_facts=True,
    )
    names = frozenset(result.function_names)
    warnings = [_as_problem(candidate, w, names) for w in result.warnings]
    errors = list(result.errors)
    functions = list(result.functions)
    if candidate.source is not SourceKind.ENTRY_POINT:
        # A function whose first parameter is not `image` is a problem of its own: the file
        # still runs as one text, and the other functions list and run (issue 14). Any other
        # finding refuses the file (its text is what would run).
        own = [e for e in errors if e.rule == "first-parameter" and e.function in names]
        if len(own) < len(errors):
            problems = tuple(_as_problem(candidate, e, names) for e in errors)
            return Discovery(candidate, (), problems, tuple(warnings))
        refused = {e.function for e in own}
        problems = tuple(_as_problem(candidate, e, names) for e in own)
        kept = tuple(f for f in functions if f.name not in refused)
        return Discovery(candidate, kept, problems, tuple(warnings))

    # The same pass read the module facts; there are none when the text could not be read.
    module_facts = result.module
    if module_facts is None:
        problems = [_as_problem(candidate, e, names) for e in errors] or [
            Problem.for_candidate(candidate, "the module cannot be parsed", kind="syntax")
        ]
        return Discovery(candidate, (), tuple(problems), tuple(warnings))

    # a finding about one function (its first parameter, its decorator's arguments) is that
    # function's problem: the module's other functions list without importing it
    top_level = module_facts.decorated_functions
    per_function = [
        e
        for e in errors
        if e.function in names or (e.rule == "decorator" and e.function in top_level)
    ]
    owned = {id(e) for e in per_function}
    rest = [e for e in errors if id(e) not in owned]
    # Decorator findings outside the static functions: a nested decorated def, or none at all.
    dynamic = [e for e in rest if e.rule == "decorator"]
    blocking = [e for e in rest if e.rule != "decorator"]
    problems = [_as_problem(candidate, e, names | top_level) for e in per_function]
    refused = {e.function for e in per_function}
    functions = [f for f in functions if f.name not in refused]
    if candidate.attribute is not None:
        functions = [f for f in functions if f.name == candidate.attribute]

    wants_import = (
        (candidate.attribute is not None and candidate.attribute not in names)
        or (candidate.attribute is None and not names)
        or bool(dynamic)
        or module_facts.makes_functions_at_import
    )
    if wants_import and not blocking and import_modules:
        found, import_problems, import_warnings = _discover_by_import(
            candidate, module_facts, set(names)
        )
        warnings += import_warnings
        problems += import_problems
        functions += found
        if found or import_problems:
            # The import is the authority on what the module makes (or why it cannot say).
            dynamic = []
    elif wants_import and not blocking and functions:
        # Not installed (an archive): what the module makes at import time cannot be seen.
        warnings += [_as_problem(candidate, e, names) for e in dynamic]
        warnings.append(
            Problem.for_candidate(
                candidate,
                "the module may make functions at import time; they are checked only once "
                "the package is installed",
                kind="not-imported",
                hint=f"install it and run `openhcs-plugins validate {candidate.distribution}`",
            )
        )
        dynamic = []
    if blocking:
        problems += [_as_problem(candidate, e, names) for e in blocking]
        functions = []
    no_function = not functions and not problems
    problems += [
        _as_problem(candidate, e, names, "no-function" if no_function else "") for e in dynamic
    ]
    if not functions and not problems:
        what = (
            f"{candidate.module}:{candidate.attribute}"
            if candidate.attribute is not None
            else candidate.module
        )
        problems.append(
            Problem.for_candidate(
                candidate,
                f"{what} defines no memory-decorated function",
                kind="no-function",
                hint="decorate the functions with a memory type (`@numpy`, `@torch`, ...) or "
                "fix the entry point to name the module that defines them",
            )
        )
    return Discovery(candidate, tuple(functions), tuple(problems), tuple(warnings))
