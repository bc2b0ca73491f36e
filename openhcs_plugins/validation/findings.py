"""The finding types: what a check reports, and the result a validation returns.

This module owns :class:`Finding` (a problem as the pass sees it: rule, message, line, hint),
:class:`ValidationError` (a finding with file, snippet and function, as callers see it),
:class:`ValidationResult`, :class:`TooComplex` (the pass's way out when a limit is hit), and
the rule sets that decide what a trust level reports as a warning. It imports only the standard
library, :mod:`openhcs_plugins.sources.candidate` (``StaticFunction``),
:mod:`openhcs_plugins.errors` (the base error) and :mod:`.facts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from openhcs_plugins.errors import OpenHCSPluginsError
from openhcs_plugins.sources.candidate import StaticFunction
from openhcs_plugins.validation.facts import ModuleFacts

__all__ = [
    "POLICY_RULES",
    "SYNTAX_RULES",
    "Finding",
    "TooComplex",
    "ValidationError",
    "ValidationMessage",
    "ValidationResult",
]

#: Rules whose findings are warnings, not errors, at the ``trusted`` level. The others
#: (syntax, encoding, too-complex, decorator, first-parameter, duplicate-function) describe code
#: that cannot work as a function at any level.
POLICY_RULES = frozenset(
    {
        "import-not-allowed",
        "underscore-attribute",
        "denied-attribute",
        "denied-builtin",
        "dunder-name",
        "format-attribute",
        "module-assignment",
        "module-statement",
        "class-statement",
        "class-hook",
        "decorator-not-allowed",
        "annotation",
        "array-buffer",
        "enum-functional",
        "class-private",
        "artifact-spec",
    }
)
#: Rules about the text itself: what ``validate_syntax`` reports.
SYNTAX_RULES = frozenset({"syntax", "encoding", "too-complex", "internal"})


class Finding(NamedTuple):
    """One problem, before it becomes a ``ValidationError`` (which adds file and snippet)."""

    rule: str
    message: str
    line: int
    hint: str
    #: the function the finding belongs to, when it is not the line's enclosing function.
    function: str = ""


class TooComplex(OpenHCSPluginsError):
    """Raised inside the pass when a size or depth limit is exceeded (``line`` says where)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message, line=line)
        self.message = message
        self.line = line


class ValidationError(OpenHCSPluginsError):
    """One finding: what is wrong, where, which rule, and what to write instead.

    ``str()`` gives ``file:line: message (snippet) - hint``. ``subject`` is the function the
    finding is in (else the file), ``path`` and ``line`` the file and line as for every error
    of the package (``filename`` and ``line_number`` are the OpenHCS names).
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
        super().__init__(
            message, subject=function or filename or None, path=filename, line=line_number
        )
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


class ValidationMessage(str):
    """One finding as OpenHCS's documented API gives it: a ``str``.

    ``ValidationResult.errors`` and ``.warnings`` are documented as ``List[str]``, so a host's
    dialog can ``"\\n".join(result.errors)``. Each item is the text of the finding
    (``file:line: message (snippet) - hint``) and still carries ``line_number``,
    ``code_snippet``, ``rule``, ``filename``, ``function``, ``hint`` and ``message``;
    :attr:`error` is the :class:`ValidationError` to raise.
    """

    message: str
    line_number: int
    code_snippet: str
    rule: str
    filename: str
    function: str
    hint: str

    def __new__(cls, error: ValidationError) -> ValidationMessage:
        self = super().__new__(cls, str(error))
        self.message = error.message
        self.line_number = error.line_number
        self.code_snippet = error.code_snippet
        self.rule = error.rule
        self.filename = error.filename
        self.function = error.function
        self.hint = error.hint
        return self

    @property
    def error(self) -> ValidationError:
        """The finding as an exception (to raise, or to attach to one)."""
        return ValidationError(
            self.message,
            self.line_number,
            self.code_snippet,
            rule=self.rule,
            filename=self.filename,
            function=self.function,
            hint=self.hint,
        )

    # the names every error of the package has (errors.OpenHCSPluginsError)
    @property
    def subject(self) -> str | None:
        return self.function or self.filename or None

    @property
    def path(self) -> str | None:
        return self.filename or None

    @property
    def line(self) -> int | None:
        return self.line_number or None

    def __repr__(self) -> str:
        return (
            f"ValidationMessage({self.message!r}, line_number={self.line_number}, "
            f"rule={self.rule!r}, function={self.function!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (ValidationMessage, (self.error,))


def _rebuild_error(*args: Any) -> ValidationError:
    message, line, snippet, rule, filename, function, hint = args
    return ValidationError(
        message, line, snippet, rule=rule, filename=filename, function=function, hint=hint
    )


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of a validation: valid or not, the findings, and the functions found."""

    is_valid: bool
    #: each a ``str`` (OpenHCS's ``List[str]``) carrying the finding's fields
    #: (:class:`ValidationMessage`).
    errors: tuple[ValidationMessage, ...]
    warnings: tuple[ValidationMessage, ...]
    function_names: tuple[str, ...]
    #: static description of each decorated top-level function (nothing was executed).
    functions: tuple[StaticFunction, ...] = ()
    #: what the same pass read about the module, with ``validate_code(..., module_facts=True)``
    #: (None when not asked for, or when the text could not be read to the end).
    module: ModuleFacts | None = None

    def __post_init__(self) -> None:
        # Findings given as ValidationError (older callers) become ValidationMessage.
        for name in ("errors", "warnings"):
            items = getattr(self, name)
            if any(type(item) is not ValidationMessage for item in items):
                object.__setattr__(
                    self,
                    name,
                    tuple(
                        item
                        if type(item) is ValidationMessage
                        else ValidationMessage(
                            item
                            if isinstance(item, ValidationError)
                            else ValidationError(str(item))
                        )
                        for item in items
                    ),
                )

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
