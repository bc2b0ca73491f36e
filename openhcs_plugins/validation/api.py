"""The public entry points of the static checks: ``validate_code`` and its stages.

This module owns the order of the static pass (decode, parse, inspect, attribute and filter
the findings by stage and trust level) and the promise that a validation never raises: any
internal error, a ``RecursionError`` from a pathological input included, is a rejection with a
message. With ``module_facts=True`` the result also carries the
:class:`~openhcs_plugins.validation.facts.ModuleFacts` the loader needs, read in the same pass.
It imports only the standard library, :mod:`openhcs_plugins.sources.candidate` and the modules
of this package.
"""

from __future__ import annotations

import ast
import gc
import warnings as _warnings
from dataclasses import replace
from typing import Any

from openhcs_plugins.errors import line_snippet, shorten, split_lines
from openhcs_plugins.sources.candidate import StaticFunction, TrustLevel
from openhcs_plugins.validation.budget import Budget
from openhcs_plugins.validation.decorators import NO_FUNCTIONS_MESSAGE
from openhcs_plugins.validation.findings import (
    POLICY_RULES,
    SYNTAX_RULES,
    Finding,
    TooComplex,
    ValidationError,
    ValidationResult,
)
from openhcs_plugins.validation.inspector import inspect_tree
from openhcs_plugins.validation.policy import ImportPolicy
from openhcs_plugins.validation.text import count_tokens, decode, enclosing

__all__ = [
    "validate_code",
    "validate_decorator",
    "validate_imports",
    "validate_syntax",
]

# -- stages -----------------------------------------------------------------------------------

_ALL = "all"
_SYNTAX = "syntax"
_IMPORTS = "imports"
_DECORATORS = "decorators"


def validate_syntax(code: str | bytes) -> ValidationResult:
    """Check that ``code`` is UTF-8 Python that parses; errors carry the line and its text."""
    return _validate_safely(code, TrustLevel.USER, None, "<editor>", _SYNTAX)


def validate_imports(code: str | bytes, policy: ImportPolicy | None = None) -> ValidationResult:
    """Apply the import/attribute policy (the default one of the ``user`` level, or ``policy``).

    Besides imports this covers every policy rule: attributes, builtins, decorators allowed,
    module-level statements (see ``docs/validation.md``).
    """
    return _validate_safely(code, TrustLevel.USER, policy, "<editor>", _IMPORTS)


def validate_decorator(code: str | bytes) -> ValidationResult:
    """Check that at least one top-level function carries a memory-type decorator, that the
    decorators' arguments can be read, and that first parameters are named ``image``."""
    return _validate_safely(code, TrustLevel.USER, None, "<editor>", _DECORATORS)


def validate_code(
    code: str | bytes,
    *,
    trust: TrustLevel | str = TrustLevel.USER,
    policy: ImportPolicy | None = None,
    filename: str = "<editor>",
    module_facts: bool = False,
) -> ValidationResult:
    """All static checks with one parse: syntax, encoding, policy, decorators, signatures.

    At the ``trusted`` level the policy findings are warnings; syntax, decorator and signature
    problems stay errors. ``code`` may be ``str`` or UTF-8 ``bytes`` (validate exactly the text
    that will be executed). With ``module_facts``, ``result.module`` holds what the same pass
    read about the module (:class:`~openhcs_plugins.validation.facts.ModuleFacts`; None when
    the text could not be read to the end). Never raises.
    """
    return _validate_safely(code, trust, policy, filename, _ALL, module_facts)


def _validate_safely(
    code: Any, trust: Any, policy: Any, filename: Any, stage: str, facts: bool = False
) -> ValidationResult:
    # The syntax tree and the pass create no reference cycles, so the cyclic collector has
    # nothing to find; pausing it for the call saves a fifth of the time (a collection of a
    # large host heap can cost more than the whole validation). It is restored on every path.
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _validate(code, trust, policy, filename, stage, facts)
    except Exception as exc:
        return _internal_error(exc, filename)
    finally:
        if collecting:
            gc.enable()


def _internal_error(exc: BaseException, filename: Any) -> ValidationResult:
    if isinstance(exc, (RecursionError, MemoryError)):
        rule, message = "too-complex", "Code is too complex to validate safely."
        hint = "Split long expressions and deep nesting into smaller statements."
    else:
        rule = "internal"
        message = f"The code could not be validated ({type(exc).__name__}: {exc})."
        hint = "The code is refused; report this if the code looks ordinary."
    name = filename if isinstance(filename, str) else ""
    error = ValidationError(message, 0, "", rule=rule, filename=name, hint=hint)
    return ValidationResult(False, (error,), (), ())


def _validate(
    code: Any, trust: Any, policy: Any, filename: Any, stage: str, facts: bool
) -> ValidationResult:
    if not isinstance(filename, str):
        filename = str(filename)
    try:
        trust = TrustLevel(trust)
    except ValueError:
        return _single(
            "internal",
            f"Unknown trust level {trust!r}; use one of: "
            + ", ".join(level.value for level in TrustLevel),
            filename,
            "Pass trust='trusted', 'user' or 'strict'.",
        )
    if policy is None:
        policy = ImportPolicy.default()
    elif not isinstance(policy, ImportPolicy):
        return _single(
            "internal",
            f"policy must be an ImportPolicy, not {type(policy).__name__}.",
            filename,
            "Use ImportPolicy.default().with_additions(...).",
        )
    budget = Budget(policy.max_seconds)  # parse included
    text, problem = decode(code, policy.max_source_bytes)
    if problem is not None:
        return _result([problem], text or "", filename, trust, [], (), stage)
    assert text is not None
    problem = count_tokens(text, policy.max_tokens)
    if problem is not None:
        return _result([problem], text, filename, trust, [], (), stage)
    try:
        # Python's own warnings about the text (an invalid escape sequence, "is" with a
        # literal) become findings of the file, not noise on the host's stderr.
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            tree = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        line = exc.lineno or 1
        message = f"Syntax error: {exc.msg}"
        finding = Finding("syntax", message, line, _syntax_hint(exc))
        return _result([finding], text, filename, trust, [], (), stage, exc.text)
    except ValueError as exc:  # null bytes on older Pythons
        finding = Finding("syntax", f"Syntax error: {exc}", 1, "Remove the invalid characters.")
        return _result([finding], text, filename, trust, [], (), stage)
    except (RecursionError, MemoryError):
        finding = Finding(
            "too-complex",
            "Code is too complex to parse safely (nesting too deep).",
            1,
            "Split long expressions and deep nesting into smaller statements.",
        )
        return _result([finding], text, filename, trust, [], (), stage)
    noted = [
        Finding(
            "syntax-warning",
            f"Python warns: {w.message}",
            w.lineno or 1,
            "Fix it before Python makes it an error (a raw string r'...' for a backslash).",
        )
        for w in caught
        if issubclass(w.category, (SyntaxWarning, DeprecationWarning))
    ]
    if stage == _SYNTAX:
        return ValidationResult(True, (), (), ())
    try:
        budget.check(None)
        inspection = inspect_tree(tree, policy, facts=facts, budget=budget)
    except TooComplex as exc:
        finding = Finding(
            "too-complex",
            exc.message,
            exc.line,
            "Split long expressions, attribute chains and deep nesting into smaller statements.",
        )
        return _result([finding], text, filename, trust, [], (), stage)
    findings = inspection.findings + noted
    if inspection.memory_decorated == 0:
        first_def = next(
            (n.lineno for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
            1,
        )
        findings.append(
            Finding(
                "decorator",
                NO_FUNCTIONS_MESSAGE,
                first_def,
                "Add 'from openhcs_plugins.memory import numpy' and put '@numpy' on the line "
                "above 'def'.",
            )
        )
    result = _result(
        findings, text, filename, trust, inspection.ranges, tuple(inspection.functions), stage
    )
    return result if inspection.module is None else replace(result, module=inspection.module)


def _single(rule: str, message: str, filename: str, hint: str) -> ValidationResult:
    error = ValidationError(message, 0, "", rule=rule, filename=filename, hint=hint)
    return ValidationResult(False, (error,), (), ())


def _result(
    findings: list[Finding],
    text: str,
    filename: str,
    trust: TrustLevel,
    ranges: list[tuple[int, int, str]],
    functions: tuple[StaticFunction, ...],
    stage: str,
    snippet_override: str | None = None,
) -> ValidationResult:
    if stage == _IMPORTS:
        findings = [f for f in findings if f.rule in POLICY_RULES or f.rule in SYNTAX_RULES]
        functions = ()
    elif stage == _DECORATORS:
        findings = [f for f in findings if f.rule not in POLICY_RULES]
    elif stage == _SYNTAX:
        findings = [f for f in findings if f.rule in SYNTAX_RULES]
    lines: list[str] | None = None
    errors: list[ValidationError] = []
    warnings: list[ValidationError] = []
    seen: set[tuple[str, str, int]] = set()
    for finding in sorted(findings, key=lambda f: f.line):
        key = (finding.rule, finding.message, finding.line)
        if key in seen:
            continue
        seen.add(key)
        if snippet_override is not None:
            snippet = shorten(snippet_override)
        else:
            if lines is None:
                lines = split_lines(text)
            snippet = line_snippet(lines, finding.line)
        function = finding.function or enclosing(ranges, finding.line)
        error = ValidationError(
            finding.message,
            finding.line,
            snippet,
            rule=finding.rule,
            filename=filename,
            function=function,
            hint=finding.hint,
        )
        if finding.rule == "syntax-warning" or (
            trust is TrustLevel.TRUSTED and finding.rule in POLICY_RULES
        ):
            warnings.append(error)
        else:
            errors.append(error)
    return ValidationResult(
        is_valid=not errors,
        errors=tuple(errors),
        warnings=tuple(warnings),
        function_names=tuple(f.name for f in functions),
        functions=functions,
    )


def _syntax_hint(exc: SyntaxError) -> str:
    where = f"line {exc.lineno}" if exc.lineno else "the reported line"
    if exc.offset:
        where += f", column {exc.offset}"
    return f"Fix the syntax at {where}; nothing was checked beyond it."
