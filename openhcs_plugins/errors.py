"""The package's error types, and the one place that locates a line in user code.

Every exception the package raises derives from :class:`OpenHCSPluginsError` and every warning
from :class:`OpenHCSPluginsWarning`, as pluggy's errors carry their plugin: each carries the
failing object as ``subject`` (a function key, a file path, a candidate, a memory type), and where
known ``path`` and ``line`` (where in the user's code) and ``hint`` (what to do, often the exact
command). The concrete classes keep their built-in bases as well (``ValueError``, ``KeyError``,
``RuntimeError``, ...), so ``except ValueError`` keeps working where it did. The few a caller of
``registry.get``/``registry.call`` must catch are exported from :mod:`openhcs_plugins`.

The locator (:func:`traceback_line`, :func:`split_lines`, :func:`line_snippet`,
:func:`source_line`, :func:`function_location`) is how validation, execution errors, the loader,
config code and the GUI say which line of the user's code a problem is on, and quote it.

This module imports only the standard library (``re`` and ``typing`` on import) and nothing of
the package, so every module, the validator included, may import it.

>>> try:
...     raise OpenHCSPluginsError("no such thing", subject="openhcs:blur", hint="run `list`")
... except OpenHCSPluginsError as exc:
...     exc.subject, exc.hint
('openhcs:blur', 'run `list`')
>>> source_line("a = 1\\nb = 2\\n", 2)
'b = 2'
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "OpenHCSPluginsError",
    "OpenHCSPluginsWarning",
    "function_location",
    "line_snippet",
    "shorten",
    "source_line",
    "split_lines",
    "traceback_line",
]


class _Located:
    """The attributes every error and warning of the package has (defaults: not known)."""

    #: the failing object: a function key, a file path, a candidate, a memory type, a package.
    subject: Any = None
    #: the file of the user's code the error is about (None when not a file).
    path: str | None = None
    #: the 1-based line in ``path`` (None when not known).
    line: int | None = None
    #: what to do about it, often the exact command that fixes it ("" when none).
    hint: str = ""

    def _locate(
        self,
        subject: Any = None,
        *,
        path: Any = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        """Attach what is known; what is None keeps the class default (or a value set before)."""
        if subject is not None:
            self.subject = subject
        if path is not None and str(path):
            self.path = str(path)
        if line:
            self.line = int(line)
        if hint:
            self.hint = hint


class OpenHCSPluginsError(_Located, Exception):
    """Base of every exception of the package, with the failing object attached.

    ``subject``, ``path``, ``line`` and ``hint`` may be given as keywords; the subclasses set
    them from their own arguments. Catch this to catch anything the package raises on purpose.
    """

    def __init__(
        self,
        *args: Any,
        subject: Any = None,
        path: Any = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(*args)
        self._locate(subject, path=path, line=line, hint=hint)


class OpenHCSPluginsWarning(_Located, UserWarning):
    """Base of every warning of the package (a ``UserWarning``, so it shows by default)."""


# -- locating a line in user code ------------------------------------------------------------

_MAX_SNIPPET = 200
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as the tokenizer counts them (``\\r\\n``, ``\\r`` or ``\\n``)."""
    return _LINE_BREAK.split(text)


def shorten(snippet: str) -> str:
    """``snippet`` stripped, and cut to 200 characters with ``...``."""
    snippet = snippet.strip()
    if len(snippet) > _MAX_SNIPPET:
        snippet = snippet[: _MAX_SNIPPET - 3] + "..."
    return snippet


def line_snippet(lines: list[str], line: int) -> str:
    """Line ``line`` (1-based) of ``lines``, stripped and shortened; empty when out of range."""
    return shorten(lines[line - 1]) if 0 < line <= len(lines) else ""


def source_line(text: str, line: int) -> str:
    """Line ``line`` (1-based) of the source ``text``, as a finding quotes it; "" when none."""
    return line_snippet(split_lines(text), line) if line > 0 else ""


def traceback_line(exc: BaseException, filename: str) -> int:
    """The innermost line of ``filename`` in ``exc``'s traceback; 0 when the file is not in
    it (a ``SyntaxError`` raised while compiling the file carries its line as ``lineno``)."""
    import traceback  # only when an error is being located (it costs a listing's start-up)

    found = 0
    for frame, line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename and line is not None:
            found = line
    return found


def raised_at(exc: BaseException) -> tuple[Any, int] | None:
    """The code object and instruction offset where ``exc`` was raised (its innermost frame);
    None without a traceback."""
    tb = exc.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code, tb.tb_lasti


def function_location(func: Any) -> tuple[str, int, str]:
    """File, first line and that line's text of a function (or of what it wraps)."""
    import linecache

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
