"""Run untrusted functions in an isolated worker process (the ``strict`` trust level).

Each worker is a fresh ``python -I`` process (never a fork of this interpreter) in a new
session. Before it imports numpy it sets hard resource limits (CPU seconds, memory, file size,
open files, no core dumps) and, where the kernel allows, moves into new user, pid, network, IPC
and mount namespaces: no network, a private ``/proc``, home folders and ``/tmp`` hidden,
everything read-only but a small scratch folder. What was really active is reported
(:class:`~openhcs_plugins.execution.report.IsolationReport`), never assumed. The parent adds a
wall-clock timeout and kills the whole process tree at the end.

Arrays cross the boundary as raw bytes with dtype and shape in a small JSON header; other
values as size-capped JSON. **Nothing is pickled in either direction**, and the parent checks
what an array claims to be (dtype, shape, size) before it reads a byte of it. Whatever goes
wrong in the worker becomes an :class:`~openhcs_plugins.execution.errors.IsolationError` in the
caller, which keeps running::

    from openhcs_plugins.execution import IsolatedRunner, run_isolated

    with IsolatedRunner(source_text, "blur", filename="blur.py") as runner:
        for image in images:                     # one warm worker for the whole batch
            out = runner.call(image, sigma=2.0)  # numpy in, numpy out

    out = run_isolated(source_text, "blur", image, sigma=2.0)   # one call, one worker

Limits come from ``load_settings().isolation``
(:meth:`~openhcs_plugins.execution.limits.IsolationLimits.from_settings`) with per-call
overrides. docs/security.md describes what each layer stops and what it does not.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from openhcs_plugins.execution.channel import encode_argument
from openhcs_plugins.execution.errors import (
    IsolatedFunctionError,
    IsolationError,
    LeftoverActivity,
    LoadFailed,
    ResultRejected,
    WorkerExited,
    WorkerMemoryError,
)
from openhcs_plugins.execution.limits import SETTINGS_HINT, IsolationLimits, limits_with
from openhcs_plugins.execution.pool import SHARED_LOCK, shared_worker
from openhcs_plugins.execution.process import WorkerProcess
from openhcs_plugins.execution.protocol import decode
from openhcs_plugins.execution.report import CallOutput, IsolationReport
from openhcs_plugins.sources.candidate import SourceKind, sha256_text
from openhcs_plugins.sources.folder import read_source

if TYPE_CHECKING:
    from openhcs_plugins.registry import FunctionInfo

__all__ = ["IsolatedFunctionInfo", "IsolatedRunner", "run_isolated", "runner_for"]


@dataclass(frozen=True)
class IsolatedFunctionInfo:
    """A function as the worker found it after loading the code."""

    name: str
    input_memory_type: str
    output_memory_type: str
    contract: str
    signature: str
    required: tuple[str, ...] = ()


def _function_info(name: str, desc: Mapping[str, Any]) -> IsolatedFunctionInfo:
    parameters = desc.get("parameters", [])
    if not isinstance(parameters, list):
        raise TypeError(f"the parameters of {name} are not a list")
    return IsolatedFunctionInfo(
        name=name,
        input_memory_type=str(desc.get("input_memory_type")),
        output_memory_type=str(desc.get("output_memory_type")),
        contract=str(desc.get("contract")),
        signature=str(desc.get("signature"))[:2000],
        required=tuple(
            str(p.get("name")) for p in parameters[1:] if isinstance(p, dict) and p.get("required")
        ),
    )


class IsolatedRunner:
    """A warm isolated worker for a batch: the code is loaded once, then called many times.

    ``source_text`` is executed in the worker exactly as given (``filename`` names it in
    tracebacks and errors); or ``module`` names an installed module to import there instead.
    ``function_name`` is the function :meth:`call` runs (default: the only one). Limits come
    from the settings, changed by ``limits`` and keyword overrides (``wall_seconds=5``). A
    worker that failed is replaced on the next call; :meth:`close` (or leaving the ``with``
    block) kills it.

    >>> with IsolatedRunner(code, "blur", filename="blur.py") as runner:  # doctest: +SKIP
    ...     out = runner.call(image, sigma=2.0)
    """

    def __init__(
        self,
        source_text: str | None = None,
        function_name: str | None = None,
        *,
        filename: str = "<isolated>",
        module: str | None = None,
        limits: IsolationLimits | None = None,
        key: str | None = None,
        shared: str | None = None,
        **limit_overrides: Any,
    ) -> None:
        if (source_text is None) == (module is None):
            raise ValueError("give either source_text or module")
        #: the pool this runner's code loads into (a memory type): one warm worker serves the
        #: files of that pool (execution/pool.py); None: a worker of its own.
        self.shared = shared
        #: the registry key of the function (``runner_for``), named in contract errors.
        self.key = key
        self.source_text = source_text
        self.module = module
        self.function_name = function_name
        self.filename = filename if module is None else f"<{module}>"
        self.limits = limits_with(limits, limit_overrides)
        self._worker: WorkerProcess | None = None
        self._functions: dict[str, IsolatedFunctionInfo] = {}
        self._pooled: Any = None  # the shared worker the code was loaded into
        self._lock = SHARED_LOCK if shared is not None else threading.RLock()
        self._timer: threading.Timer | None = None
        self.last_output = CallOutput()
        self.workers_started = 0
        #: the temporary folder of each worker started (it names the worker's processes).
        self.worker_dirs: list[str] = []

    # -- context
    def __enter__(self) -> IsolatedRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        worker = self.__dict__.get("_worker")
        if worker is not None and self.__dict__.get("shared") is None:
            try:
                worker.kill()
            except Exception:  # at interpreter exit modules may be half gone; atexit kills too
                pass

    def close(self) -> None:
        """Kill the worker (the next call would start a new one)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._worker is not None:
                if self.shared is None:
                    self._worker.kill()
                self._worker = None
                self._pooled = None

    # -- state
    @property
    def report(self) -> IsolationReport | None:
        """Protections of the current (or last) worker; None before the first start."""
        return self._report if hasattr(self, "_report") else None

    @property
    def functions(self) -> dict[str, IsolatedFunctionInfo]:
        """The memory-decorated functions the worker found (starts it if needed)."""
        self.start()
        return dict(self._functions)

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.alive

    def start(self) -> IsolatedRunner:
        """Start a worker and load the code (no-op when one is running)."""
        with self._lock:
            self._ensure()
        return self

    def _name(self, name: str | None) -> str:
        return name or self.function_name or ""

    def _ensure(self) -> WorkerProcess:
        if self.shared is not None:
            pooled = shared_worker(self.shared, self.limits)
            if self._pooled is not pooled:  # a new (or replaced) worker: load the code into it
                self._worker = None
                try:
                    self._functions = self._load(pooled.worker, slot=pooled.slot_for(self))
                except BaseException:
                    pooled.discard()  # a failed load may leave anything behind in it
                    raise
                self._pooled = pooled
            self._worker = pooled.worker
            if self.function_name is None and len(self._functions) == 1:
                self.function_name = next(iter(self._functions))
            return pooled.worker
        worker = self._worker
        if worker is not None:
            # Replace a warm worker before a call could reach its lifetime CPU limit.
            if worker.alive and (
                worker.cpu_used + self.limits.cpu_seconds < self.limits.cpu_hard_seconds - 1
            ):
                return worker
            worker.kill()  # also one that ended: its folder and pipes go with it
        self._worker = None
        worker = WorkerProcess(self.limits, function=self._name(None), filename=self.filename)
        self.workers_started += 1
        self.worker_dirs.append(worker.workdir)
        try:
            self._functions = self._load(worker)
        except BaseException:
            worker.kill()  # whatever went wrong, no worker is left behind
            raise
        if self.function_name is None and len(self._functions) == 1:
            self.function_name = next(iter(self._functions))
        self._worker = worker
        return worker

    def _load(
        self, worker: WorkerProcess, slot: str | None = None
    ) -> dict[str, IsolatedFunctionInfo]:
        """Read the worker's report, load the code, return the functions it found."""
        if worker.report is None:
            # The report is read before any user code runs in the worker, so that code cannot
            # forge it (it could write frames to the pipe while it loads).
            header, _ = worker.exchange({"op": "report"}, what="starting the worker")
            worker.report = IsolationReport.from_worker(header.get("report") or {})
        self._report = worker.report
        request: dict[str, Any] = {"op": "load", "filename": self.filename}
        if slot is not None:
            request["slot"] = slot
        if self.module is not None:
            request["module"] = self.module
            request["functions"] = [self.function_name] if self.function_name else None
        else:
            request["source"] = self.source_text
        header, _ = worker.exchange(request, what="loading the code")
        if header.get("op") == "error":
            raise self._response_error(worker, header, "loading the code")
        try:
            if header.get("op") != "loaded" or not isinstance(header.get("functions"), dict):
                raise TypeError("not a load answer")
            return {
                str(name): _function_info(str(name), desc)
                for name, desc in header["functions"].items()
                if isinstance(desc, dict)
            }
        except (TypeError, ValueError, RecursionError) as exc:
            # user code runs during the load and can write its own answer to the pipe
            raise worker._error(
                ResultRejected, f"the worker answered the load request oddly ({exc})"
            ) from None

    def _response_error(
        self, worker: WorkerProcess, header: dict[str, Any], what: str
    ) -> IsolationError:
        kind = header.get("kind")
        message = str(header.get("message", ""))[:4000]
        line = header.get("line") if type(header.get("line")) is int else 0
        text = str(header.get("traceback", ""))[-8000:]
        if kind == "exception":
            return worker._error(
                IsolatedFunctionError,
                f"raised {message}",
                exc_type=str(header.get("type", "")),
                traceback_text=text,
                line_number=line,
                hint="fix the function (the traceback from the worker is in .traceback_text)",
                output=text or worker.stderr.text(),
            )
        if kind == "load":
            return worker._error(
                LoadFailed,
                f"the code failed while loading in the isolated worker: {message}",
                line_number=line,
                hint="fix the error; run the file at the 'trusted' level locally to debug it",
                output=text or worker.stderr.text(),
            )
        if kind == "memory":
            return worker._error(
                WorkerMemoryError,
                f"{what} ran out of memory (the worker may use {self.limits.memory_mb} MiB): "
                f"{message}",
                line_number=line,
                hint="use smaller images or fewer copies, or raise the limit: "
                + SETTINGS_HINT.format(key="memory_mb"),
            )
        if kind == "exit":
            return worker._error(
                WorkerExited,
                f"{message} during {what}",
                line_number=line,
                hint="functions must return their result, not call exit() or sys.exit()",
            )
        if kind == "leftover":
            return worker._error(
                LeftoverActivity,
                f"{message} after {what}; the worker was killed with them",
                hint="functions must not leave threads or processes behind; do the work "
                "before returning",
            )
        if kind == "reject":
            return worker._error(ResultRejected, message, hint="return plain arrays and metadata")
        return worker._error(ResultRejected, f"the worker answered oddly ({kind!r})")

    # -- calls
    def call(self, image: Any, *args: Any, **params: Any) -> Any:
        """Run the function on ``image`` in the worker; returns what the function returns
        (an array, or a tuple ``(image, metadata...)``), with arrays as numpy arrays."""
        return self.call_function(self._name(None), image, *args, **params)

    def apply(self, image: Any, *args: Any, **params: Any) -> Any:
        """Like :meth:`call`, but as :meth:`FunctionRegistry.call` runs functions: a
        ``PURE_2D`` function runs plane by plane on a 3D stack, and the result is checked
        against the contract (:func:`~openhcs_plugins.registry.check_result`)."""
        from openhcs_plugins.registry import check_result

        self.start()
        name = self._name(None)
        info = self._functions.get(name)
        if info is not None and info.contract == "PURE_2D" and np.ndim(image) == 3:
            params.setdefault("slice_by_slice", True)
        result = self.call(image, *args, **params)
        if info is not None:
            check_result(self.key or name, info.contract, image, result)
        return result

    def call_function(self, name: str, image: Any, *args: Any, **params: Any) -> Any:
        """Run function ``name`` of the loaded code on ``image``."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not name:
                self._ensure()
                name = self._name(None)
                if not name:
                    raise LoadFailed(
                        "no function name given and the code defines "
                        f"{len(self._functions)} functions ({', '.join(self._functions)})",
                        filename=self.filename,
                        hint="pass function_name",
                    )
            arrays: list[np.ndarray] = []
            encoded_args = [encode_argument(image, arrays, "image")]
            encoded_args += [
                encode_argument(a, arrays, f"argument {i + 2}") for i, a in enumerate(args)
            ]
            encoded_kwargs = {
                "$dict": [[k, encode_argument(v, arrays, k)] for k, v in params.items()]
            }
            worker = self._ensure()
            worker.function = name
            request = {
                "op": "call",
                "function": name,
                "args": encoded_args,
                "kwargs": encoded_kwargs,
            }
            if self._pooled is not None:
                request["slot"] = self._pooled.slot_for(self)
            what = f"the call of {name}"
            cpu_before = worker.cpu_used
            try:
                header, out_arrays = worker.exchange(request, arrays, what=what)
            finally:
                self._record(worker, cpu_before)
            if header.get("op") == "error":
                kind = header.get("kind")
                if kind not in ("exception", "reject"):
                    worker.kill()
                error = self._response_error(worker, header, what)
                self._worker = worker if worker.alive else None
                if self._worker is not None:
                    self._schedule_idle()
                raise error
            try:
                value = decode(header.get("value"), out_arrays)
            except (
                ValueError,
                TypeError,
                KeyError,
                IndexError,
                OverflowError,
                RecursionError,
            ) as exc:
                worker.kill()
                raise worker._error(
                    ResultRejected, f"the worker sent a malformed result ({exc})"
                ) from None
            self._schedule_idle()
            return value

    def _record(self, worker: WorkerProcess, cpu_before: float) -> None:
        usage = worker.last_usage
        self.last_output = CallOutput(
            stdout=worker.stdout.text(),
            stderr=worker.stderr.text(),
            stdout_bytes=worker.stdout.total,
            stderr_bytes=worker.stderr.total,
            cpu_seconds=max(worker.cpu_used - cpu_before, 0.0),
            wall_seconds=float(getattr(worker, "last_wall", 0.0)),
            maxrss_mb=float(usage.get("maxrss_kb", 0) or 0) / 1024,
        )
        if not worker.alive or worker.proc is None:
            worker.kill()  # it ended (with its answer): remove its folder, close its pipes
            self._worker = None

    def _schedule_idle(self) -> None:
        if self._pooled is not None:
            self._pooled.touch(self.limits.idle_seconds)
            return
        idle = self.limits.idle_seconds
        if idle is None:
            return
        ref = weakref.ref(self)

        def stop() -> None:
            runner = ref()
            if runner is not None and runner._lock.acquire(blocking=False):
                try:
                    if runner._timer is timer and runner._worker is not None:
                        runner._worker.kill()
                        runner._worker = None
                finally:
                    runner._lock.release()

        timer = threading.Timer(idle, stop)
        timer.daemon = True
        self._timer = timer
        timer.start()


def run_isolated(
    source_text: str,
    function_name: str,
    image: Any,
    *args: Any,
    filename: str = "<isolated>",
    limits: IsolationLimits | None = None,
    **params: Any,
) -> Any:
    """Run one function once in a fresh worker (load, call, kill) and return its result."""
    with IsolatedRunner(source_text, function_name, filename=filename, limits=limits) as runner:
        return runner.call(image, *args, **params)


def runner_for(info: FunctionInfo, *, limits: IsolationLimits | None = None) -> IsolatedRunner:
    """An :class:`IsolatedRunner` for a registered function (``run --isolated``).

    Folder files are read again and checked against the sha256 recorded when they were
    listed; an installed package's module is imported inside the worker.
    """
    provenance = info.provenance
    limits = limits if limits is not None else IsolationLimits.from_settings()
    if provenance.source is SourceKind.ENTRY_POINT:
        value = (provenance.entry_point or "").partition("=")[2].strip()
        module = value.partition(":")[0].strip()
        if not module:
            raise LoadFailed(
                f"{info.key} has no module to import (entry point {provenance.entry_point!r})",
                function=info.name,
                hint="reinstall the package",
            )
        location = _package_location(module)
        if location:
            limits = replace(limits, visible_paths=(*limits.visible_paths, location))
        return IsolatedRunner(module=module, function_name=info.name, limits=limits, key=info.key)
    if provenance.file is None:
        raise LoadFailed(
            f"{info.key} was registered from {provenance.describe()} and has no file to run "
            "in a worker",
            function=info.name,
            hint="save it to the functions folder first (openhcs-plugins add)",
        )
    path = Path(provenance.file)
    try:
        text = read_source(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadFailed(
            f"cannot read {path}: {exc}", function=info.name, filename=str(path)
        ) from exc
    if provenance.sha256 and sha256_text(text) != provenance.sha256:
        raise LoadFailed(
            "the file changed since it was registered",
            function=info.name,
            filename=str(path),
            hint="list the functions again (openhcs-plugins list) and rerun",
        )
    return IsolatedRunner(text, info.name, filename=str(path), limits=limits, key=info.key)


def _package_location(module: str) -> str:
    import importlib.util

    try:
        spec = importlib.util.find_spec(module.partition(".")[0])
    except (ImportError, ValueError):
        return ""
    if spec is None:
        return ""
    if spec.submodule_search_locations:
        return str(Path(next(iter(spec.submodule_search_locations))).parent)
    if spec.origin:
        return str(Path(spec.origin).parent)
    return ""
