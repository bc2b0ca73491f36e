"""Asking a worker what it has: the protection probe and ``validate --isolated``.

:func:`probe_protections` starts a worker only to read its report (``openhcs-plugins doctor``);
:func:`validate_in_worker` runs each function of a file once on a small synthetic stack in a
worker and reports each result, never raising for a problem of the code.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from openhcs_plugins.execution.errors import IsolationError
from openhcs_plugins.execution.limits import IsolationLimits
from openhcs_plugins.execution.process import WorkerProcess
from openhcs_plugins.execution.report import IsolationReport
from openhcs_plugins.execution.runner import IsolatedRunner

__all__ = [
    "FunctionCheck",
    "IsolationCheck",
    "measure_cold_start",
    "probe_protections",
    "validate_in_worker",
]


def probe_protections(limits: IsolationLimits | None = None) -> IsolationReport:
    """Start a worker, ask which protections it has, kill it (``openhcs-plugins doctor``).

    Costs one worker start without numpy (about 50 ms).
    """
    limits = limits if limits is not None else IsolationLimits.from_settings()
    worker = WorkerProcess(limits, function="", filename="<doctor>")
    try:
        header, _ = worker.exchange({"op": "report"}, what="the protection probe")
        return IsolationReport.from_worker(header.get("report") or {})
    finally:
        worker.kill()


_COLD_START_CODE = (
    "from openhcs_plugins.memory import numpy\n\n\n@numpy\ndef probe(image):\n    return image\n"
)


def measure_cold_start(limits: IsolationLimits | None = None) -> float:
    """Milliseconds from nothing to the first result of a numpy function in a new isolated
    worker (start, limits, numpy's import, the call): what the first call of an untrusted
    function costs (``openhcs-plugins doctor``); later calls reuse the warm worker."""
    import time

    import numpy as np

    from openhcs_plugins.execution.runner import IsolatedRunner

    limits = limits if limits is not None else IsolationLimits.from_settings()
    start = time.perf_counter()
    with IsolatedRunner(_COLD_START_CODE, "probe", filename="<doctor>", limits=limits) as runner:
        runner.call(np.zeros((1, 8, 8), np.float32))
    return (time.perf_counter() - start) * 1000


@dataclass(frozen=True)
class FunctionCheck:
    """One function run on a small synthetic stack in a worker."""

    name: str
    #: ``ok``, ``failed`` or ``skipped``.
    status: str
    message: str = ""
    #: the :class:`IsolationError` subclass (or the function's exception type) of a failure.
    error_type: str = ""
    output_shape: tuple[int, ...] | None = None
    output_dtype: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        if self.status == "ok":
            return (
                f"  ok      {self.name}: {self.output_shape} {self.output_dtype} "
                f"in {self.seconds * 1000:.0f} ms"
            )
        return f"  {self.status:<7} {self.name}: {self.message}"


@dataclass(frozen=True)
class IsolationCheck:
    """Result of :func:`validate_in_worker`."""

    filename: str
    load_error: str
    functions: tuple[FunctionCheck, ...]
    report: IsolationReport | None = None
    load_error_type: str = ""
    line_number: int = 0

    @property
    def ok(self) -> bool:
        return not self.load_error and all(f.status != "failed" for f in self.functions)

    def lines(self) -> list[str]:
        """What ``validate --isolated`` prints."""
        if self.load_error:
            where = f"{self.filename}:{self.line_number}" if self.line_number else self.filename
            return [f"{where}: {self.load_error_type}: {self.load_error}"]
        out = [f"{self.filename}: {len(self.functions)} function(s) run in an isolated worker"]
        out += [f.line() for f in self.functions]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``validate --isolated --json``)."""
        return {
            "filename": self.filename,
            "ok": self.ok,
            "load_error": self.load_error,
            "load_error_type": self.load_error_type,
            "line": self.line_number,
            "functions": [asdict(f) for f in self.functions],
            "protections": self.report.to_dict() if self.report is not None else None,
        }


def validate_in_worker(
    source_text: str,
    filename: str = "<editor>",
    *,
    limits: IsolationLimits | None = None,
    shape: tuple[int, ...] = (2, 32, 32),
    seed: int = 0,
) -> IsolationCheck:
    """Execute ``source_text`` in an isolated worker and run each of its functions once on a
    small synthetic float32 stack (``shape``). Functions with required parameters besides
    ``image`` are skipped. Never raises for a problem of the code: each is reported.
    """
    stack = (np.random.default_rng(seed).random(shape, dtype=np.float32) * 100).astype(np.float32)
    runner = IsolatedRunner(source_text, filename=filename, limits=limits)
    try:
        try:
            functions = runner.functions
        except IsolationError as exc:
            return IsolationCheck(
                filename,
                exc.message,
                (),
                runner.report,
                load_error_type=type(exc).__name__,
                line_number=exc.line_number,
            )
        checks = []
        for name, info in functions.items():
            if info.required:
                checks.append(
                    FunctionCheck(
                        name,
                        "skipped",
                        "needs a value for " + ", ".join(repr(p) for p in info.required),
                    )
                )
                continue
            params = {"slice_by_slice": True} if info.contract == "PURE_2D" else {}
            start = time.perf_counter()
            try:
                result = runner.call_function(name, stack.copy(), **params)
            except IsolationError as exc:
                kind = getattr(exc, "exc_type", "") or type(exc).__name__
                checks.append(FunctionCheck(name, "failed", exc.message, kind))
                continue
            seconds = time.perf_counter() - start
            image = result[0] if type(result) is tuple and result else result
            if not isinstance(image, np.ndarray):
                checks.append(
                    FunctionCheck(
                        name,
                        "failed",
                        f"returned a {type(image).__name__}, not an image array",
                        "ResultRejected",
                        seconds=seconds,
                    )
                )
                continue
            checks.append(
                FunctionCheck(name, "ok", "", "", tuple(image.shape), str(image.dtype), seconds)
            )
        return IsolationCheck(filename, "", tuple(checks), runner.report)
    finally:
        runner.close()
