"""Keeping user code out of the host's control flow.

``KeyboardInterrupt``, ``SystemExit`` and ``GeneratorExit`` are not ``Exception``: raised by a
plugin's module or function, they would stop the host (a ``raise SystemExit`` in a folder file
would end the user's OpenHCS session). :func:`escape` and :func:`reraise` turn them into a
:class:`ControlFlowEscape`, an ordinary error of that function naming its file and line; the
callers catch the three themselves, so that the calls' hot path pays nothing. A real
Ctrl-C still stops the command: Python raises a signal's ``KeyboardInterrupt`` where it polls
for signals, never at a ``raise`` statement, so a ``KeyboardInterrupt`` whose innermost frame
is not at a ``raise`` goes on up (no signal handler is installed). This module imports only
the standard library and :mod:`openhcs_plugins.errors`.
"""

from __future__ import annotations

import dis
from typing import Any, NoReturn

from openhcs_plugins.errors import OpenHCSPluginsError, raised_at, traceback_line

__all__ = ["ControlFlowEscape", "escape", "reraise"]

_RAISE = dis.opmap["RAISE_VARARGS"]


class ControlFlowEscape(OpenHCSPluginsError, RuntimeError):
    """User code raised ``KeyboardInterrupt``, ``SystemExit`` or ``GeneratorExit``: an error of
    that code, not a request to stop the host."""

    def __init__(self, what: str, exc: BaseException, path: Any = None, line: int | None = None):
        self.exception_type = type(exc).__name__
        where = f" ({path}, line {line})" if path and line else f" ({path})" if path else ""
        super().__init__(
            f"{what} raised {self.exception_type}{f': {exc}' if str(exc) else ''}{where}; "
            "plugin code may not stop the program, so this is an error of that code",
            subject=what,
            path=path,
            line=line,
            hint="replace the raise with an ordinary exception (ValueError, RuntimeError)",
        )


def _line_in(exc: BaseException, path: Any) -> int | None:
    return (traceback_line(exc, str(path)) or None) if path is not None else None


def escape(what: str, exc: BaseException, path: Any = None) -> BaseException:
    """What to raise for ``exc`` (a ``KeyboardInterrupt``, ``SystemExit`` or ``GeneratorExit``
    caught from user code): the exception itself for a real Ctrl-C, a
    :class:`ControlFlowEscape` otherwise."""
    if isinstance(exc, KeyboardInterrupt) and _real_sigint(exc):
        return exc
    return ControlFlowEscape(what, exc, path, _line_in(exc, path))


def _real_sigint(exc: BaseException) -> bool:
    """True when ``exc`` came from a SIGINT, not from a ``raise`` statement.

    Python raises a signal's ``KeyboardInterrupt`` where it checks for signals (a call, a
    backward jump, C code polling for them), never at a ``raise``; a ``raise`` re-raised with a
    bare ``raise`` keeps its first traceback. So the instruction of the innermost frame tells.
    """
    where = raised_at(exc)
    if where is None:
        return True
    code, offset = where
    for instruction in dis.get_instructions(code):
        if instruction.offset == offset:
            return instruction.opcode != _RAISE
    return True  # not found: let it go on up


def reraise(what: str, exc: BaseException, path: Any = None) -> NoReturn:
    """Raise what :func:`escape` says for ``exc``, caught from user code (``what``: the function
    or file, for the message): a real Ctrl-C as itself, anything else as a
    :class:`ControlFlowEscape` from ``exc``."""
    raised = escape(what, exc, path)
    if raised is exc:
        raise exc
    raise raised from exc
