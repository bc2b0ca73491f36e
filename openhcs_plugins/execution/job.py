"""The job: the worker process that runs the user's code and answers the parent.

It serves ``report``, ``load`` and ``call`` requests (:mod:`openhcs_plugins.execution.protocol`
frames) until the parent closes the request pipe. The module imports the standard library only
(the worker script loads it before any limit is set); numpy, the frameworks and the rest of
``openhcs_plugins`` are imported when a request needs them, under the limits.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys

from openhcs_plugins.execution.processes import descendants
from openhcs_plugins.execution.protocol import (
    MAGIC,
    MAX_REQUEST_HEADER,
    PREFIX,
    decode,
    encode_frame,
    read_exact,
    read_into,
    write_all,
)
from openhcs_plugins.execution.results import Reject, ResultEncoder

__all__ = ["Job", "LoadError"]


class Job:
    """Serves ``report``, ``load`` and ``call`` requests."""

    def __init__(self, config: dict, report: dict) -> None:
        self.config = config
        self.report = report
        self.request_fd = config["request_fd"]
        self.response_fd = config["response_fd"]
        self.functions: dict = {}
        #: a shared worker holds several files: slot (given by the parent) -> their functions
        self.slots: dict = {}
        self.filename = "<isolated>"
        self.baseline_threads = 0
        self.np = None

    # -- plumbing
    def serve(self) -> None:
        while True:
            prefix = read_exact(self.request_fd, PREFIX.size)
            if prefix is None:
                return
            magic, length = PREFIX.unpack(prefix)
            if magic != MAGIC or length > MAX_REQUEST_HEADER:
                raise ValueError("bad request frame from the parent")
            header = json.loads(read_exact(self.request_fd, length) or b"{}")
            try:
                arrays = [self._read_array(desc) for desc in header.get("arrays", [])]
            except MemoryError as exc:
                # The rest of the request cannot be read: answer, then end (the parent
                # starts a new worker for the next call).
                self.error("memory", exc, "the input arrays do not fit in the memory limit")
                return
            op = header.get("op")
            if op == "report":
                self.send({"op": "report", "report": self.report})
            elif op == "load":
                self.load(header)
            elif op == "call":
                self.call(header, arrays)
            elif op == "exit":
                return
            else:
                raise ValueError(f"unknown request {op!r}")

    def _read_array(self, desc: dict):  # type: ignore[no-untyped-def]
        np = self.numpy()
        array = np.empty(tuple(desc["shape"]), dtype=np.dtype(desc["dtype"]))
        if array.nbytes != desc["nbytes"]:
            raise ValueError("array size does not match its shape")
        read_into(self.request_fd, memoryview(array).cast("B") if array.nbytes else memoryview(b""))
        return array

    def send(self, header: dict, arrays: list | None = None) -> None:
        arrays = arrays or []
        header["arrays"] = [
            {"dtype": a.dtype.str, "shape": list(a.shape), "nbytes": int(a.nbytes)} for a in arrays
        ]
        header["usage"] = self.usage()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # the user's code may have replaced them
            pass
        write_all(self.response_fd, encode_frame(header))
        for array in arrays:
            if array.nbytes:
                write_all(self.response_fd, memoryview(array).cast("B"))

    def usage(self) -> dict:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}

    def numpy(self):  # type: ignore[no-untyped-def]
        if self.np is None:
            import numpy

            self.np = numpy
        return self.np

    def cpu_budget(self) -> None:
        """This call may use ``cpu_seconds`` more (the kernel sends SIGXCPU past it)."""
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = used.ru_utime + used.ru_stime
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        soft = math.ceil(spent + self.config["limits"]["cpu_seconds"])
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        except (OSError, ValueError):
            pass

    def error(self, kind: str, exc: BaseException | None, message: str = "", line: int = 0) -> None:
        import traceback

        text = ""
        if exc is not None:
            message = message or f"{type(exc).__name__}: {exc}"
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            if not line:
                for frame, number in traceback.walk_tb(exc.__traceback__):
                    if frame.f_code.co_filename == self.filename:
                        line = number
        self.send(
            {
                "op": "error",
                "kind": kind,
                "type": type(exc).__name__ if exc is not None else "",
                "message": message[:4000],
                "traceback": text[-8000:],
                "line": line,
            }
        )

    # -- leftovers
    def leftovers(self) -> str:
        import threading

        problems = []
        count = _thread_count()
        if count > self.baseline_threads:
            names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
            problems.append(
                f"{count - self.baseline_threads} thread(s) still running"
                + (f" ({', '.join(names[:5])})" if names else "")
            )
        children = self.child_processes()
        if children:
            problems.append(f"{len(children)} process(es) still running (pids {children[:5]})")
        return "; ".join(problems)

    def child_processes(self) -> list[int]:
        """Processes this job started that still run (orphans go to the supervisor)."""
        me = os.getpid()
        try:
            with open("/proc/self/stat", "rb") as handle:
                data = handle.read()
            me_proc = int(data.split()[0])
            parent = int(data[data.rfind(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            return []
        found: set[int] = set()
        for root in (me_proc, parent):
            try:
                tasks = os.listdir(f"/proc/{root}/task")
            except OSError:
                tasks = []
            ok = bool(tasks)
            for task in tasks:
                try:
                    with open(f"/proc/{root}/task/{task}/children") as handle:
                        found.update(int(p) for p in handle.read().split())
                except OSError:
                    ok = False
            if not ok:
                found.update(p for p in descendants(root) if p != me_proc)
        found.discard(me_proc)
        found.discard(me)
        return sorted(found)

    # -- requests
    def load(self, header: dict) -> None:
        self.cpu_budget()
        self.filename = header.get("filename") or "<isolated>"
        try:
            self.numpy()
            # Before the module can import pyclesperanto (it lists OpenCL devices on import).
            from openhcs_plugins._opencl import configure_opencl

            configure_opencl()
            self.baseline_threads = _thread_count()
            module = self._module(header)
        except MemoryError as exc:
            self.error("memory", exc)
            return
        except SystemExit as exc:
            self.error("exit", exc, f"the module raised SystemExit({exc.code!r}) while loading")
            return
        except LoadError as exc:
            self.error("load", exc, exc.message, exc.line_number)
            return
        except BaseException as exc:  # reported to the parent
            self.error("load", exc)
            return
        from openhcs_plugins.memory import CONTRACT_ATTRIBUTE, is_memory_decorated

        wanted = header.get("functions")
        found = {}
        for name, obj in list(vars(module).items()):
            if wanted is not None and name not in wanted:
                continue
            if not is_memory_decorated(obj):
                continue
            if wanted is None and getattr(obj, "__module__", None) != module.__name__:
                continue
            found[name] = obj
        self.functions = found
        if header.get("slot") is not None:
            self.slots[str(header["slot"])] = found
        described = {
            name: self._describe(name, obj, CONTRACT_ATTRIBUTE) for name, obj in found.items()
        }
        problem = self.leftovers()
        if problem:
            self.fail("leftover", f"while loading the module: {problem}")
            return
        self.send({"op": "loaded", "functions": described})

    def fail(self, kind: str, message: str) -> None:
        self.send(
            {
                "op": "error",
                "kind": kind,
                "type": "",
                "message": message,
                "traceback": "",
                "line": 0,
            }
        )

    def _module(self, header: dict):  # type: ignore[no-untyped-def]
        if header.get("module"):
            import importlib

            return importlib.import_module(header["module"])
        from pathlib import Path

        from openhcs_plugins.execution.inprocess import CodeExecutionError, exec_module
        from openhcs_plugins.sources.candidate import Candidate, SourceKind, TrustLevel

        filename = header.get("filename") or ""
        path = Path(filename) if filename and not filename.startswith("<") else None
        candidate = Candidate.from_code(
            header["source"],
            source=SourceKind.FOLDER if path is not None else SourceKind.EDITOR,
            path=path,
            trust=TrustLevel.USER,
        )
        try:
            return exec_module(candidate)
        except CodeExecutionError as exc:
            raise LoadError(exc.message, exc.line_number, exc.code_snippet) from exc

    def _describe(self, name: str, func, contract_attribute: str) -> dict:  # type: ignore[no-untyped-def]
        import inspect

        try:
            signature = inspect.signature(func)
            text = str(signature)
            params = [
                {
                    "name": p.name,
                    "kind": p.kind.name,
                    "required": p.default is inspect.Parameter.empty
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD),
                }
                for p in signature.parameters.values()
            ]
        except (TypeError, ValueError):
            text, params = "(...)", []
        return {
            "name": getattr(func, "__name__", name),
            "input_memory_type": func.input_memory_type,
            "output_memory_type": func.output_memory_type,
            "contract": getattr(func, contract_attribute, "FLEXIBLE"),
            "signature": text[:2000],
            "parameters": params,
        }

    def call(self, header: dict, arrays: list) -> None:
        name = header["function"]
        slot = header.get("slot")
        func = (self.slots.get(str(slot), {}) if slot is not None else self.functions).get(name)
        if func is None:
            self.fail("load", f"no memory-decorated function {name!r} was loaded")
            return
        args = decode(header.get("args", []), arrays)
        kwargs = decode(header.get("kwargs", {}), arrays)
        self.cpu_budget()
        try:
            result = func(*args, **kwargs)
        except MemoryError as exc:
            self.error("memory", exc)
            return
        except SystemExit as exc:
            self.error("exit", exc, f"the function raised SystemExit({exc.code!r})")
            return
        except BaseException as exc:  # reported to the parent
            cause = exc.__cause__
            if isinstance(cause, SystemExit):  # the decorator's ControlFlowEscape (_usercode)
                self.error("exit", cause, f"the function raised SystemExit({cause.code!r})")
                return
            problem = self.leftovers()
            if problem:
                self.fail("leftover", problem)
            elif _is_allocation_failure(exc):
                self.error("memory", exc)
            else:
                self.error("exception", exc)
            return
        problem = self.leftovers()
        if problem:
            self.fail("leftover", problem)
            return
        out: list = []
        try:
            limit = self.config["limits"]["max_output_mb"] * 1024 * 1024
            value = ResultEncoder(self.numpy(), limit).encode(result, out, "result", 0)
        except Reject as exc:
            self.fail("reject", str(exc))
            return
        except MemoryError as exc:
            self.error("memory", exc)
            return
        self.send({"op": "result", "value": value}, out)


class LoadError(Exception):
    def __init__(self, message: str, line: int, snippet: str) -> None:
        super().__init__(message)
        self.message = message
        self.line_number = line
        self.snippet = snippet


def _thread_count() -> int:
    import _thread

    return _thread._count()


def _is_allocation_failure(exc: BaseException) -> bool:
    text = str(exc)
    return "can't allocate memory" in text or "out of memory" in text.lower()
