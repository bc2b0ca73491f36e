"""Validation of custom-function code: static checks on the text, runtime checks on the callable.

Static checks (:func:`validate_code`) read the source without running it, with one
``ast.parse`` and one iterative pass over the tree:

- syntax, with the line number and the offending line;
- encoding: UTF-8 only; a coding cookie naming another encoding is refused, because a
  ``# -*- coding: utf-7 -*-`` "comment" can hide statements from any check of the text;
- the import/attribute policy (:class:`ImportPolicy`; see ``docs/validation.md``), enforced at
  the ``user`` and ``strict`` trust levels and reported as warnings at ``trusted``;
- memory-type decorators, recognised by what they resolve to (``@numpy``, ``@memory.torch``,
  ``@torch(output_type="numpy")``, ``memory_types("torch", "numpy")``, the OpenHCS module
  names), and the first parameter ``image``.

It also reads what a listing needs: a :class:`~openhcs_plugins.candidate.StaticFunction` per
decorated top-level function. The validator never raises: any internal error, a
``RecursionError`` from a pathological input included, is a rejection with a message.

>>> result = validate_code('''
... from openhcs_plugins.memory import numpy
...
... @numpy
... def invert(image):
...     return image.max() - image
... ''')
>>> result.is_valid, result.function_names
(True, ('invert',))
>>> bad = validate_code("import os\\n")
>>> bad.errors[0].message
"Dangerous import detected: 'os'. Module 'os' is not allowed in custom functions."
"""

from __future__ import annotations

import ast
import codecs
import gc
import inspect
import keyword
import linecache
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openhcs_plugins._inspection import (
    NO_FUNCTIONS_MESSAGE,
    POLICY_RULES,
    Finding,
    TooComplex,
    inspect_tree,
)
from openhcs_plugins._memtypes import AVAILABLE_MEMORY_TYPES
from openhcs_plugins._policy import ImportPolicy
from openhcs_plugins.candidate import StaticFunction, TrustLevel

__all__ = [
    "ImportPolicy",
    "ValidationError",
    "ValidationResult",
    "validate_code",
    "validate_decorator",
    "validate_function",
    "validate_imports",
    "validate_syntax",
]

_CONTRACT_ATTRIBUTE = "__openhcs_declared_processing_contract__"
_CONTRACTS = ("FLEXIBLE", "PURE_3D", "PURE_2D", "VOLUMETRIC_TO_SLICE")
_MAX_SNIPPET = 200


class ValidationError(Exception):
    """One finding: what is wrong, where, which rule, and what to write instead.

    ``str()`` gives ``file:line: message (snippet) - hint``.
    """

    def __init__(
        self,
        message: str,
        line_number: int = 0,
        code_snippet: str = "",
        *,
        rule: str = "",
        filename: str = "",
        function: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line_number = line_number
        self.code_snippet = code_snippet
        self.rule = rule
        self.filename = filename
        self.function = function
        self.hint = hint

    def __str__(self) -> str:
        if self.filename and self.line_number:
            where = f"{self.filename}:{self.line_number}: "
        elif self.filename:
            where = f"{self.filename}: "
        elif self.line_number:
            where = f"line {self.line_number}: "
        else:
            where = ""
        text = where + self.message
        if self.code_snippet:
            text += f" ({self.code_snippet})"
        if self.hint:
            text += f" - {self.hint}"
        return text

    def __repr__(self) -> str:
        return (
            f"ValidationError({self.message!r}, line_number={self.line_number}, "
            f"rule={self.rule!r}, function={self.function!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_error,
            (
                self.message,
                self.line_number,
                self.code_snippet,
                self.rule,
                self.filename,
                self.function,
                self.hint,
            ),
        )


def _rebuild_error(*args: Any) -> ValidationError:
    message, line, snippet, rule, filename, function, hint = args
    return ValidationError(
        message, line, snippet, rule=rule, filename=filename, function=function, hint=hint
    )


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of a validation: valid or not, the findings, and the functions found."""

    is_valid: bool
    errors: tuple[ValidationError, ...]
    warnings: tuple[ValidationError, ...]
    function_names: tuple[str, ...]
    #: static description of each decorated top-level function (nothing was executed).
    functions: tuple[StaticFunction, ...] = ()

    def as_error(self, filename: str = "") -> ValidationError:
        """The first error, to raise, with every error attached as ``.errors``; ``filename``
        fills in where the finding does not name a file."""
        if not self.errors:
            raise ValueError("a valid result has no error to raise")
        first = self.errors[0]
        error = ValidationError(
            first.message,
            first.line_number,
            first.code_snippet,
            rule=first.rule,
            filename=first.filename or filename,
            function=first.function,
            hint=first.hint,
        )
        error.errors = self.errors  # type: ignore[attr-defined]
        return error


# -- stages -----------------------------------------------------------------------------------

_SYNTAX_RULES = frozenset({"syntax", "encoding", "too-complex", "internal"})
_DECORATOR_RULES = frozenset({"decorator", "first-parameter", "duplicate-function"})
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
) -> ValidationResult:
    """All static checks with one parse: syntax, encoding, policy, decorators, signatures.

    At the ``trusted`` level the policy findings are warnings; syntax, decorator and signature
    problems stay errors. ``code`` may be ``str`` or UTF-8 ``bytes`` (validate exactly the text
    that will be executed). Never raises.
    """
    return _validate_safely(code, trust, policy, filename, _ALL)


def _validate_safely(
    code: Any, trust: Any, policy: Any, filename: Any, stage: str
) -> ValidationResult:
    # The syntax tree and the pass create no reference cycles, so the cyclic collector has
    # nothing to find; pausing it for the call saves a fifth of the time (a collection of a
    # large host heap can cost more than the whole validation). It is restored on every path.
    collecting = gc.isenabled()
    if collecting:
        gc.disable()
    try:
        return _validate(code, trust, policy, filename, stage)
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


def _validate(code: Any, trust: Any, policy: Any, filename: Any, stage: str) -> ValidationResult:
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
    text, problem = _decode(code, policy)
    if problem is not None:
        return _result([problem], text or "", filename, trust, [], (), stage)
    assert text is not None
    try:
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
    if stage == _SYNTAX:
        return ValidationResult(True, (), (), ())
    try:
        inspection = inspect_tree(tree, policy)
    except TooComplex as exc:
        finding = Finding(
            "too-complex",
            exc.message,
            exc.line,
            "Split long expressions, attribute chains and deep nesting into smaller statements.",
        )
        return _result([finding], text, filename, trust, [], (), stage)
    findings = inspection.findings
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
    return _result(
        findings, text, filename, trust, inspection.ranges, tuple(inspection.functions), stage
    )


def _single(rule: str, message: str, filename: str, hint: str) -> ValidationResult:
    error = ValidationError(message, 0, "", rule=rule, filename=filename, hint=hint)
    return ValidationResult(False, (error,), (), ())


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


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
        findings = [f for f in findings if f.rule in POLICY_RULES or f.rule in _SYNTAX_RULES]
        functions = ()
    elif stage == _DECORATORS:
        findings = [f for f in findings if f.rule not in POLICY_RULES]
    elif stage == _SYNTAX:
        findings = [f for f in findings if f.rule in _SYNTAX_RULES]
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
            snippet = snippet_override
        else:
            if lines is None:
                lines = _LINE_BREAK.split(text)
            snippet = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        snippet = snippet.strip()
        if len(snippet) > _MAX_SNIPPET:
            snippet = snippet[: _MAX_SNIPPET - 3] + "..."
        function = finding.function or _enclosing(ranges, finding.line)
        error = ValidationError(
            finding.message,
            finding.line,
            snippet,
            rule=finding.rule,
            filename=filename,
            function=function,
            hint=finding.hint,
        )
        if trust is TrustLevel.TRUSTED and finding.rule in POLICY_RULES:
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


def _enclosing(ranges: list[tuple[int, int, str]], line: int) -> str:
    for start, end, name in ranges:
        if start <= line <= end:
            return name
        if start > line:
            break
    return ""


def _syntax_hint(exc: SyntaxError) -> str:
    where = f"line {exc.lineno}" if exc.lineno else "the reported line"
    if exc.offset:
        where += f", column {exc.offset}"
    return f"Fix the syntax at {where}; nothing was checked beyond it."


# -- encoding ----------------------------------------------------------------------------------

# A coding declaration anywhere in a comment of the first two lines, where a line ends at
# "\r\n", "\r" or "\n" as for the tokenizer (which honours b"\r# coding: utf-7").
_COOKIE = re.compile(r"coding[:=][ \t]*([-\w.]+)", re.ASCII)
_COOKIE_BYTES = re.compile(rb"coding[:=][ \t]*([-\w.]+)", re.ASCII)
_FIRST_LINES = re.compile(r"\r\n|\r|\n")
_FIRST_LINES_BYTES = re.compile(rb"\r\n|\r|\n")


def _cookie_problem(name: str, line: int) -> Finding | None:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        codec = ""
    if codec in ("utf-8", "utf-8-sig"):
        return None
    return Finding(
        "encoding",
        f"Coding declaration {name!r} is not allowed: custom functions must be UTF-8 "
        "(another encoding can hide statements inside what looks like a comment).",
        line,
        "Save the file as UTF-8 and remove the '# -*- coding: ... -*-' line.",
    )


def _decode(code: Any, policy: ImportPolicy) -> tuple[str | None, Finding | None]:
    """The text to check, or a finding about why there is none."""
    too_large = Finding(
        "too-complex",
        f"Code is too large to validate: more than {policy.max_source_bytes} bytes.",
        1,
        "A custom-function file holds a few functions; split larger code into a package.",
    )
    if isinstance(code, (bytes, bytearray, memoryview)):
        data = bytes(code)
        if len(data) > policy.max_source_bytes:
            return None, too_large
        for number, line in enumerate(_FIRST_LINES_BYTES.split(data, 2)[:2], start=1):
            for match in _COOKIE_BYTES.finditer(line, line.find(b"#") + 1 or len(line)):
                problem = _cookie_problem(match.group(1).decode("ascii"), number)
                if problem is not None:
                    return None, problem
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return None, Finding(
                "encoding",
                f"Code is not valid UTF-8 ({exc.reason} at byte {exc.start}).",
                line,
                "Save the file as UTF-8.",
            )
    if not isinstance(code, str):
        return None, Finding(
            "internal",
            f"Code must be str or bytes, not {type(code).__name__}.",
            0,
            "Pass the source text.",
        )
    if len(code) > policy.max_source_bytes:
        return None, too_large
    for number, line in enumerate(_FIRST_LINES.split(code, 2)[:2], start=1):
        if "coding" in line:
            for match in _COOKIE.finditer(line, line.find("#") + 1 or len(line)):
                problem = _cookie_problem(match.group(1), number)
                if problem is not None:
                    return code, problem
    if not code.isascii():
        try:
            code.encode("utf-8")
        except UnicodeEncodeError as exc:
            line = code.count("\n", 0, exc.start) + 1
            return code, Finding(
                "encoding",
                f"Code cannot be encoded as UTF-8 ({exc.reason} at character {exc.start}).",
                line,
                "Remove the unpaired surrogate characters.",
            )
    return code, None


# -- runtime checks ----------------------------------------------------------------------------


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
    filename, line, snippet = _location(func)

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
    contract = getattr(func, _CONTRACT_ATTRIBUTE, "FLEXIBLE")
    if not isinstance(contract, str) or contract not in _CONTRACTS:
        error(
            "decorator",
            f"Function '{name}' declares the processing contract {contract!r}, which is not one "
            "of " + ", ".join(_CONTRACTS) + ".",
            'Pass contract="FLEXIBLE", "PURE_3D", "PURE_2D" or "VOLUMETRIC_TO_SLICE".',
        )
    return ValidationResult(
        is_valid=not errors,
        errors=tuple(errors),
        warnings=tuple(warnings),
        function_names=(raw_name,) if isinstance(raw_name, str) else (),
    )


def _location(func: Any) -> tuple[str, int, str]:
    """File, first line and that line's text of a function (or of what it wraps)."""
    target = func
    for _ in range(10):
        wrapped = getattr(target, "__wrapped__", None)
        if wrapped is None:
            break
        target = wrapped
    code = getattr(target, "__code__", None)
    filename = getattr(code, "co_filename", "")
    line = getattr(code, "co_firstlineno", 0)
    if not isinstance(filename, str) or not isinstance(line, int):
        return "", 0, ""
    snippet = linecache.getline(filename, line).strip() if filename and line else ""
    return filename, line, snippet
