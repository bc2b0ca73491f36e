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
    ARRAY_KINDS,
    MAGIC,
    MAX_DEPTH,
    MAX_REQUEST_HEADER,
    PREFIX,
    decode,
    encode_frame,
    read_exact,
    read_into,
    write_all,
)

__all__ = ["Job", "LoadError", "Reject"]


class Reject(Exception):
    """A value that cannot cross the process boundary."""


class Job:
    """Serves ``report``, ``load`` and ``call`` requests."""

    def __init__(self, config: dict, report: dict) -> None:
        self.config = config
        self.report = report
        self.request_fd = config["request_fd"]
        self.response_fd = config["response_fd"]
        self.functions: dict = {}
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

        from openhcs_plugins.candidate import Candidate, SourceKind, TrustLevel
        from openhcs_plugins.execution.inprocess import CodeExecutionError, exec_module

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
        func = self.functions.get(name)
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
            value = self.encode(result, out, "result", 0)
        except Reject as exc:
            self.fail("reject", str(exc))
            return
        except MemoryError as exc:
            self.error("memory", exc)
            return
        self.send({"op": "result", "value": value}, out)

    # -- values
    def encode(self, value, arrays: list, where: str, depth: int):  # type: ignore[no-untyped-def]
        """A JSON-ready form of ``value``; arrays are appended to ``arrays`` and referenced."""
        import dataclasses
        import enum

        np = self.numpy()
        if depth > MAX_DEPTH:
            raise Reject(f"{where} is nested deeper than {MAX_DEPTH} levels")
        if value is None or type(value) in (bool, str, float):
            return value
        if type(value) is int:
            if abs(value) > 2**63:
                raise Reject(f"{where} is an integer of {value.bit_length()} bits, too large")
            return value
        if isinstance(value, np.ndarray) or _framework_array(value):
            return {"$array": self.add_array(value, arrays, where)}
        if isinstance(value, np.generic):
            if value.dtype.kind not in ARRAY_KINDS:
                raise Reject(f"{where} is a numpy {value.dtype} scalar; return numbers")
            return self.encode(value.item(), arrays, where, depth + 1)
        if isinstance(value, enum.Enum):
            return self.encode(value.value, arrays, where, depth + 1)
        if isinstance(value, (bool, int, float, str)):
            base = next(t for t in (bool, int, float, str) if isinstance(value, t))
            return self.encode(base(value), arrays, where, depth + 1)
        if isinstance(value, complex):
            return {"$complex": [value.real, value.imag]}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self.encode(fields, arrays, where, depth + 1)
        if isinstance(value, tuple) and hasattr(type(value), "_fields"):
            named = dict(zip(type(value)._fields, tuple(value), strict=False))
            return self.encode(named, arrays, where, depth + 1)
        if isinstance(value, tuple):
            items = [
                self.encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)
            ]
            return {"$tuple": items}
        if isinstance(value, list):
            return [self.encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        if isinstance(value, dict):
            pairs = [
                [
                    self.encode(k, arrays, f"{where} key", depth + 1),
                    self.encode(v, arrays, f"{where}[{k!r}]", depth + 1),
                ]
                for k, v in value.items()
            ]
            return {"$dict": pairs}
        raise Reject(
            f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which cannot "
            "leave the isolated worker; return arrays, numbers, strings, lists, tuples and dicts "
            "(dataclasses, enums and named tuples arrive as dicts and values)"
        )

    def add_array(self, value, arrays: list, where: str) -> int:  # type: ignore[no-untyped-def]
        np = self.numpy()
        if not isinstance(value, np.ndarray):
            from openhcs_plugins.memory.convert import convert_memory

            value = convert_memory(value, "numpy", device="cpu", writable=False)
        # A plain ndarray (a subclass's own code never runs in the parent), checked by size
        # before anything is copied: a broadcast view can claim far more than it holds.
        value = np.asarray(value).view(np.ndarray)
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            raise Reject(
                f"{where} has dtype {value.dtype}; only bool, integer, float and "
                "complex arrays can leave the isolated worker"
            )
        limit = self.config["limits"]["max_output_mb"] * 1024 * 1024
        total = value.nbytes + sum(a.nbytes for a in arrays)
        if total > limit:
            raise Reject(
                f"{where} is {value.nbytes / 2**20:.1f} MiB (shape {value.shape}); the "
                f"result may be at most {limit // 2**20} MiB (isolation.max_output_mb)"
            )
        arrays.append(np.ascontiguousarray(value))
        return len(arrays) - 1


class LoadError(Exception):
    def __init__(self, message: str, line: int, snippet: str) -> None:
        super().__init__(message)
        self.message = message
        self.line_number = line
        self.snippet = snippet


def _thread_count() -> int:
    import _thread

    return _thread._count()


def _framework_array(value) -> bool:  # type: ignore[no-untyped-def]
    module = type(value).__module__.split(".")[0]
    # pyclesperanto's arrays live in its backend's module (pyclesperanto_opencl, ...).
    frameworks = ("torch", "cupy", "jax", "jaxlib", "tensorflow", "pyclesperanto", "pyopencl")
    if module not in frameworks and not module.startswith("pyclesperanto_"):
        return False
    from openhcs_plugins.memory.detect import memory_type_of_type

    return memory_type_of_type(type(value)) is not None


def _is_allocation_failure(exc: BaseException) -> bool:
    text = str(exc)
    return "can't allocate memory" in text or "out of memory" in text.lower()
