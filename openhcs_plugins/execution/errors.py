"""The errors of isolated runs: :class:`IsolationError` and one subclass per way a run fails.

Whatever goes wrong in a worker becomes one of these in the caller, which keeps running; each
names the function and file, says what to do (``hint``) and carries the end of the worker's
output. It imports the standard library and :mod:`openhcs_plugins.errors` (the base error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openhcs_plugins.errors import OpenHCSPluginsError

if TYPE_CHECKING:
    from openhcs_plugins.execution.report import IsolationReport

__all__ = [
    "IsolatedFunctionError",
    "IsolationError",
    "LeftoverActivity",
    "LoadFailed",
    "OutputFlood",
    "ResultRejected",
    "WorkerCPULimit",
    "WorkerCrashed",
    "WorkerExited",
    "WorkerMemoryError",
    "WorkerStartError",
    "WorkerTimeout",
]


class IsolationError(OpenHCSPluginsError, RuntimeError):
    """Something went wrong in an isolated worker; the caller's process is unaffected.

    ``function`` and ``filename`` name what ran (``subject``: the function, else the file),
    ``hint`` says what to do, ``output`` holds the end of what the worker wrote to stderr.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str = "",
        filename: str = "",
        line_number: int = 0,
        hint: str = "",
        output: str = "",
        report: IsolationReport | None = None,
    ) -> None:
        self.message = message
        self.function = function
        self.filename = filename
        self.line_number = line_number
        self.hint = hint
        self.output = output
        self.report = report
        super().__init__(
            self._text(),
            subject=function or filename or None,
            path=filename,
            line=line_number,
            hint=hint,
        )

    def _text(self) -> str:
        where = self.filename or "<isolated>"
        if self.line_number:
            where += f":{self.line_number}"
        what = f"{self.function} ({where})" if self.function else where
        text = f"{what}: {self.message}"
        if self.hint:
            text += f" - {self.hint}"
        if self.output.strip():
            tail = self.output.strip()[-1500:]
            text += "\n--- worker output (end) ---\n" + tail
        return text


class WorkerStartError(IsolationError):
    """The worker process could not be started or did not answer."""


class LoadFailed(IsolationError):
    """The code could not be loaded in the worker (an error at import, or no such function)."""


class IsolatedFunctionError(IsolationError):
    """The function raised an exception in the worker (``exc_type``, ``traceback_text``)."""

    def __init__(self, message: str, *, exc_type: str = "", traceback_text: str = "", **kw: Any):
        self.exc_type = exc_type
        self.traceback_text = traceback_text
        super().__init__(message, **kw)


class WorkerTimeout(IsolationError):
    """The call ran past the wall-clock limit; the worker was killed."""


class WorkerCPULimit(IsolationError):
    """The call used more CPU time than allowed; the kernel stopped the worker."""


class WorkerMemoryError(IsolationError):
    """The worker ran out of its memory limit."""


class WorkerCrashed(IsolationError):
    """The worker died from a signal (``signal_name``: SIGSEGV, SIGABRT, SIGKILL, ...)."""

    def __init__(self, message: str, *, signal_name: str = "", **kw: Any) -> None:
        self.signal_name = signal_name
        super().__init__(message, **kw)


class WorkerExited(IsolationError):
    """The code ended the worker (``SystemExit``, ``os._exit``, ``exit()``)."""

    def __init__(self, message: str, *, exit_code: int | None = None, **kw: Any) -> None:
        self.exit_code = exit_code
        super().__init__(message, **kw)


class OutputFlood(IsolationError):
    """The worker wrote more than ``stdout_kb`` to stdout or stderr in one call."""


class LeftoverActivity(IsolationError):
    """Threads or processes started by the code were still running after the call."""


class ResultRejected(IsolationError):
    """The result cannot cross the boundary safely (an object, a huge or malformed array)."""
