"""Run untrusted functions in an isolated worker process (the ``strict`` trust level).

Each worker is a fresh ``python -I`` process (never a fork of this interpreter) in a new
session. Before it imports numpy it sets hard resource limits (CPU seconds, memory, file size,
open files, no core dumps) and, where the kernel allows, moves into new user, pid, network, IPC
and mount namespaces: no network, a private ``/proc``, home folders and ``/tmp`` hidden,
everything read-only but a small scratch folder. What was really active is reported
(:class:`IsolationReport`), never assumed. The parent adds a wall-clock timeout and kills the
whole process tree at the end.

Arrays cross the boundary as raw bytes with dtype and shape in a small JSON header; other
values as size-capped JSON. **Nothing is pickled in either direction**, and the parent checks
what an array claims to be (dtype, shape, size) before it reads a byte of it. Whatever goes
wrong in the worker becomes an :class:`IsolationError` in the caller, which keeps running::

    from openhcs_plugins.isolation import IsolatedRunner, run_isolated

    with IsolatedRunner(source_text, "blur", filename="blur.py") as runner:
        for image in images:                     # one warm worker for the whole batch
            out = runner.call(image, sigma=2.0)  # numpy in, numpy out

    out = run_isolated(source_text, "blur", image, sigma=2.0)   # one call, one worker

Limits come from ``load_settings().isolation`` (:class:`IsolationLimits.from_settings`) with
per-call overrides. docs/security.md describes what each layer stops and what it does not.
"""

from __future__ import annotations

import ast
import atexit
import inspect
import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from openhcs_plugins import _worker
from openhcs_plugins.candidate import Candidate, SourceKind, StaticFunction, sha256_text
from openhcs_plugins.config import IsolationSettings
from openhcs_plugins.sources import read_source

if TYPE_CHECKING:
    from openhcs_plugins.config import Settings
    from openhcs_plugins.registry import FunctionInfo

__all__ = [
    "DEFAULT_HIDDEN_PATHS",
    "CallOutput",
    "FunctionCheck",
    "IsolatedFunctionError",
    "IsolatedRunner",
    "IsolationCheck",
    "IsolationError",
    "IsolationLimits",
    "IsolationReport",
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
    "is_isolated",
    "isolated_module",
    "probe_protections",
    "run_isolated",
    "runner_for",
    "validate_in_worker",
]

#: Folders hidden from the worker (an empty read-only tmpfs over each; ``/tmp`` becomes the
#: worker's own scratch folder). Paths the worker needs (the Python installation, the
#: package) stay visible inside them. The user's home folder is added at run time.
DEFAULT_HIDDEN_PATHS: tuple[str, ...] = (
    "/home",
    "/root",
    "/tmp",
    "/var/tmp",
    "/run/user",
    "/dev/shm",
    "/mnt",
    "/media",
    "/srv",
)
#: Largest JSON header (metadata) accepted from a worker.
MAX_METADATA_BYTES = 16 * 1024 * 1024
#: Environment variables passed to the worker (everything else, secrets included, is not).
_ENV_PASSED = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "OCL_ICD_FILENAMES",
    "OCL_ICD_VENDORS",
    "TF_CPP_MIN_LOG_LEVEL",
    "OPENHCS_PLUGINS_STRICT_DTYPES",
)
_SETTINGS_HINT = "openhcs-plugins settings set isolation.{key} VALUE"


# -- limits ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IsolationLimits:
    """Resource limits and protections of one isolated worker.

    The first six fields are the ``isolation`` settings (:meth:`from_settings`); the others
    are per-call options with safe defaults.
    """

    # The first six defaults are the settings' own (one place to change them).
    #: CPU seconds one call may use (the kernel stops the worker past it: SIGXCPU).
    cpu_seconds: int = IsolationSettings.cpu_seconds
    #: heap and anonymous memory of the worker (RLIMIT_DATA), in MiB.
    memory_mb: int = IsolationSettings.memory_mb
    #: wall-clock seconds one call (or loading the module) may take.
    wall_seconds: float = IsolationSettings.wall_seconds
    #: total size of the arrays in one result, in MiB.
    max_output_mb: int = IsolationSettings.max_output_mb
    #: open file descriptors (RLIMIT_NOFILE).
    open_files: int = IsolationSettings.open_files
    #: stdout and stderr the worker may write per call, each, in KiB (more is an error).
    stdout_kb: int = IsolationSettings.stdout_kb
    #: largest file the worker may write, in KiB (RLIMIT_FSIZE; results go through pipes).
    #: None: the scratch folder's size (``scratch_mb``).
    file_size_kb: int | None = None
    #: processes of this user inside the worker's namespaces (RLIMIT_NPROC; not for root).
    processes: int = 64
    #: size of the worker's private scratch folder, in MiB: a tmpfs (with namespaces), its
    #: only writable folder, its ``TMPDIR`` and ``HOME`` (frameworks write caches and temporary
    #: files there: tensorflow, pocl's kernel cache), removed when the worker ends.
    scratch_mb: int = 64
    #: address space beyond ``memory_mb`` for libraries and reservations (RLIMIT_AS), in MiB.
    address_space_slack_mb: int = 4096
    #: use user/pid/net/ipc/mount namespaces where the kernel allows them.
    namespaces: bool = True
    #: hide ``hidden_paths`` and make every other mount read-only (needs ``namespaces``).
    filesystem: bool = True
    hidden_paths: tuple[str, ...] = DEFAULT_HIDDEN_PATHS
    #: extra paths that stay visible inside hidden folders (a plugin's install location).
    visible_paths: tuple[str, ...] = ()
    #: a warm worker that was not used for this long is shut down (None: kept until closed).
    idle_seconds: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> IsolationLimits:
        """Limits from ``settings.isolation`` (default: :func:`load_settings`) and overrides."""
        if settings is None:
            from openhcs_plugins.config import load_settings

            settings = load_settings()
        base = cls(**asdict(settings.isolation))
        return replace(base, **overrides) if overrides else base

    @property
    def cpu_hard_seconds(self) -> int:
        """The worker's lifetime CPU limit: a warm worker is replaced before a call could
        reach it, so every call can use ``cpu_seconds``."""
        return int(2 * self.cpu_seconds + 30)

    def _config(self) -> dict[str, Any]:
        return {
            "cpu_seconds": math.ceil(self.cpu_seconds),
            "cpu_hard_seconds": self.cpu_hard_seconds,
            "memory_mb": int(self.memory_mb),
            "max_output_mb": int(self.max_output_mb),
            "open_files": int(self.open_files),
            "file_size_kb": int(
                self.scratch_mb * 1024 if self.file_size_kb is None else self.file_size_kb
            ),
            "processes": int(self.processes),
            "scratch_mb": int(self.scratch_mb),
            "address_space_slack_mb": int(self.address_space_slack_mb),
        }


def _limits(limits: IsolationLimits | None, overrides: Mapping[str, Any]) -> IsolationLimits:
    if limits is None:
        return IsolationLimits.from_settings(**overrides)
    return replace(limits, **overrides) if overrides else limits


# -- reports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IsolationReport:
    """Which protections a worker really had (read back from the worker, not assumed)."""

    #: rlimit name -> the hard value set (bytes, seconds or a count).
    rlimits: Mapping[str, int]
    #: rlimit name -> why it was not set.
    rlimit_failures: Mapping[str, str]
    #: namespaces the worker runs in: some of ``user pid net ipc mount``.
    namespaces: tuple[str, ...]
    namespace_failures: Mapping[str, str]
    private_proc: bool
    readonly_root: bool
    readonly_mounts: int
    readonly_failures: tuple[str, ...]
    hidden_paths: tuple[str, ...]
    hidden_failures: tuple[str, ...]
    visible_paths: tuple[str, ...]
    #: mounts locked by a nested user namespace (the job cannot undo them).
    mounts_locked: bool
    capabilities_dropped: bool
    no_new_privs: bool
    securebits_locked: bool
    #: the supervisor adopts orphans (only without a pid namespace).
    subreaper: bool
    #: the worker's scratch folder (a tmpfs when namespaces work).
    scratch: str
    notes: tuple[str, ...]
    python: str
    kernel: str
    uid: int

    @classmethod
    def from_worker(cls, data: Mapping[str, Any]) -> IsolationReport:
        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(x) for x in data.get(key, ()))

        return cls(
            rlimits={str(k): int(v[1]) for k, v in dict(data.get("rlimits", {})).items()},
            rlimit_failures={
                str(k): str(v) for k, v in dict(data.get("rlimit_errors", {})).items()
            },
            namespaces=strings("namespaces"),
            namespace_failures={
                str(k): str(v) for k, v in dict(data.get("namespace_errors", {})).items()
            },
            private_proc=bool(data.get("private_proc")),
            readonly_root=bool(data.get("readonly_root")),
            readonly_mounts=int(data.get("readonly_mounts", 0)),
            readonly_failures=strings("readonly_failures"),
            hidden_paths=strings("hidden_paths"),
            hidden_failures=strings("hidden_failures"),
            visible_paths=strings("visible_paths"),
            mounts_locked=bool(data.get("mounts_locked")),
            capabilities_dropped=bool(data.get("capabilities_dropped")),
            no_new_privs=bool(data.get("no_new_privs")),
            securebits_locked=bool(data.get("securebits_locked")),
            subreaper=bool(data.get("subreaper")),
            scratch=str(data.get("scratch", "")),
            notes=strings("notes"),
            python=str(data.get("python", "")),
            kernel=str(data.get("kernel", "")),
            uid=int(data.get("uid", -1)),
        )

    @property
    def network_isolated(self) -> bool:
        return "net" in self.namespaces

    @property
    def filesystem_protected(self) -> bool:
        """Read-only root, hidden folders, locked: the job cannot write outside its scratch."""
        return self.readonly_root and self.mounts_locked

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``openhcs-plugins doctor --json``)."""
        out = asdict(self)
        out["network_isolated"] = self.network_isolated
        out["filesystem_protected"] = self.filesystem_protected
        return out

    def lines(self) -> list[str]:
        """What ``openhcs-plugins doctor`` prints: one line per protection, on or off."""

        def mark(ok: bool) -> str:
            return "yes" if ok else "NO "

        def size(name: str, value: int) -> str:
            if name in ("RLIMIT_DATA", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_MEMLOCK"):
                return f"{value / 2**20:.0f} MiB" if value >= 2**20 else f"{value} bytes"
            return f"{value} s" if name == "RLIMIT_CPU" else str(value)

        out = [f"isolated worker: Python {self.python}, kernel {self.kernel}, uid {self.uid}"]
        for name, value in sorted(self.rlimits.items()):
            out.append(f"  {mark(True)} {name} = {size(name, value)}")
        for name, why in sorted(self.rlimit_failures.items()):
            out.append(f"  {mark(False)} {name}: {why}")
        for ns in ("user", "pid", "net", "ipc", "mount"):
            out.append(f"  {mark(ns in self.namespaces)} {ns} namespace")
        for what, why in self.namespace_failures.items():
            out.append(f"      namespaces ({what}): {why}")
        out.append(f"  {mark(self.private_proc)} private /proc (host processes invisible)")
        out.append(
            f"  {mark(self.readonly_root)} read-only filesystem ({self.readonly_mounts} mounts)"
        )
        out.append(f"  {mark(self.mounts_locked)} mounts locked (nested user namespace)")
        hidden = ", ".join(self.hidden_paths) or "none"
        out.append(f"  {mark(bool(self.hidden_paths))} hidden folders: {hidden}")
        out.append(f"  {mark(self.capabilities_dropped)} capabilities dropped")
        out.append(f"  {mark(self.no_new_privs)} no_new_privs")
        out.append(f"      scratch folder: {self.scratch or 'none'}")
        for note in (*self.hidden_failures, *self.readonly_failures, *self.notes):
            out.append(f"      note: {note}")
        return out


@dataclass(frozen=True)
class CallOutput:
    """What the worker printed during one call (each stream capped at ``stdout_kb``)."""

    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    maxrss_mb: float = 0.0


# -- errors ----------------------------------------------------------------------------------


class IsolationError(RuntimeError):
    """Something went wrong in an isolated worker; the caller's process is unaffected.

    ``function`` and ``filename`` name what ran, ``hint`` says what to do, ``output`` holds
    the end of what the worker wrote to stderr.
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
        super().__init__(self._text())

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


# -- the parent's side of the protocol ----------------------------------------------------------


class _Refused(Exception):
    pass


def _array_descriptions(descs: Any, limit: int) -> list[tuple[np.dtype, tuple[int, ...], int]]:
    """Check what a worker says its arrays are, before anything is allocated or read."""
    if not isinstance(descs, list) or len(descs) > 10_000:
        raise _Refused("the array list is malformed")
    out = []
    total = 0
    for desc in descs:
        if not isinstance(desc, dict):
            raise _Refused("an array description is malformed")
        dtype_text, shape, nbytes = desc.get("dtype"), desc.get("shape"), desc.get("nbytes")
        if not isinstance(dtype_text, str) or len(dtype_text) > 8:
            raise _Refused(f"dtype {dtype_text!r} is not allowed")
        try:
            dtype = np.dtype(dtype_text)
        except (TypeError, ValueError):
            raise _Refused(f"dtype {dtype_text!r} is not a dtype") from None
        if dtype.kind not in _worker.ARRAY_KINDS or dtype.fields is not None or dtype.hasobject:
            raise _Refused(f"dtype {dtype} is not allowed (bool, integer, float, complex only)")
        if (
            not isinstance(shape, list)
            or len(shape) > 32
            or not all(type(n) is int and n >= 0 for n in shape)
        ):
            raise _Refused(f"shape {shape!r} is malformed")
        size = dtype.itemsize * math.prod(shape)
        if type(nbytes) is not int or nbytes != size:
            raise _Refused(
                f"an array of shape {tuple(shape)} and dtype {dtype} declares {nbytes!r} bytes"
            )
        total += size
        if total > limit:
            raise _Refused(
                f"the result declares {total / 2**20:.1f} MiB of arrays (shape {tuple(shape)}, "
                f"{dtype}), more than the {limit // 2**20} MiB allowed (isolation.max_output_mb)"
            )
        out.append((dtype, tuple(shape), size))
    return out


class _FrameReader:
    """Reads one response frame from a pipe, a little at a time, checking as it goes."""

    def __init__(self, max_header: int, max_arrays: int) -> None:
        self.max_header = max_header
        self.max_arrays = max_arrays
        self.buffer = bytearray()
        self.length = -1
        self.header: dict[str, Any] | None = None
        self.arrays: list[np.ndarray] = []
        self.views: list[memoryview] = []
        self.done = False

    def feed_from(self, fd: int) -> bool:
        """Read what is available; True at end of file (before the frame was complete)."""
        if self.header is None:
            want = (_worker.PREFIX.size if self.length < 0 else self.length) - len(self.buffer)
            chunk = os.read(fd, min(max(want, 1), 1 << 20))
            if not chunk:
                return True
            self.buffer += chunk
            self._parse()
            return False
        view = self.views[0]
        count = os.readv(fd, [view])
        if count == 0:
            return True
        self.views[0] = view[count:]
        self._advance()
        return False

    def feed_bytes(self, data: bytes) -> None:
        """Feed bytes directly (tests of the checks, and nothing else)."""
        stream = memoryview(data)
        while stream and not self.done:
            if self.header is None:
                want = (_worker.PREFIX.size if self.length < 0 else self.length) - len(self.buffer)
                self.buffer += stream[:want]
                stream = stream[want:]
                self._parse()
            else:
                view = self.views[0]
                count = min(len(view), len(stream))
                view[:count] = stream[:count]
                self.views[0] = view[count:]
                stream = stream[count:]
                self._advance()

    def _parse(self) -> None:
        if self.length < 0:
            if len(self.buffer) < _worker.PREFIX.size:
                return
            magic, length = _worker.PREFIX.unpack(bytes(self.buffer))
            if magic != _worker.MAGIC:
                raise _Refused("the worker sent something that is not a frame")
            if length > self.max_header:
                raise _Refused(
                    f"the worker sent {length / 2**20:.1f} MiB of metadata; at most "
                    f"{self.max_header / 2**20:.0f} MiB is accepted"
                )
            self.length = length
            self.buffer.clear()
        if len(self.buffer) < self.length:
            return
        try:
            header = json.loads(bytes(self.buffer).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise _Refused(f"the worker sent malformed metadata ({type(exc).__name__})") from None
        if not isinstance(header, dict) or not isinstance(header.get("op"), str):
            raise _Refused("the worker sent malformed metadata")
        self.buffer = bytearray()
        for dtype, shape, size in _array_descriptions(header.get("arrays", []), self.max_arrays):
            try:
                array = np.empty(shape, dtype=dtype)
            except (ValueError, OverflowError, MemoryError) as exc:  # e.g. (0, 2**64)
                raise _Refused(f"shape {shape} cannot be made ({exc})") from None
            self.arrays.append(array)
            if size:
                self.views.append(memoryview(array).cast("B"))
        self.header = header
        self._advance()

    def _advance(self) -> None:
        while self.views and len(self.views[0]) == 0:
            self.views.pop(0)
        if not self.views:
            self.done = True


class _Capture:
    """Keeps at most ``limit`` bytes of a stream per call and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> bool:
        """True when the call has now written more than the limit."""
        self.total += len(chunk)
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self.total > self.limit

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def reset(self) -> None:
        self.data = bytearray()
        self.total = 0


_SIGNAL_HINTS = {
    "SIGSEGV": "the code (or a library) read or wrote memory it does not own, e.g. through "
    "numpy.lib.stride_tricks.as_strided or a bug in compiled code",
    "SIGBUS": "a bad memory access in compiled code",
    "SIGABRT": "a library aborted, often after running out of memory",
    "SIGILL": "compiled code for another CPU, or a crash in compiled code",
    "SIGFPE": "an arithmetic fault in compiled code",
    "SIGKILL": "the worker was killed from outside (often the kernel's out-of-memory killer)",
}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _env(workdir: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in _ENV_PASSED if os.environ.get(k)}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.update(_worker.scratch_environment(workdir))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _needed_paths(extra: Iterable[str]) -> list[str]:
    """What the worker must see: this Python, its packages, this package, plugin locations."""
    import site
    import sysconfig

    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(_PACKAGE_PARENT)}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    try:
        paths.update(site.getsitepackages())
    except AttributeError:
        pass
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            paths.add(sysconfig.get_path(key))
        except KeyError:
            pass
    paths.update(extra)
    return sorted(os.path.realpath(p) for p in paths if p)


_PACKAGE_PARENT = Path(__file__).resolve().parent.parent
_LIVE_WORKERS: weakref.WeakSet[_Worker] = weakref.WeakSet()


class _Worker:
    """One worker process and the pipes to it. Not thread-safe (the runner locks)."""

    def __init__(self, limits: IsolationLimits, *, function: str, filename: str) -> None:
        self.limits = limits
        self.function = function
        self.filename = filename
        self.proc: subprocess.Popen[bytes] | None = None
        self.report: IsolationReport | None = None
        self.cpu_used = 0.0
        self.stdout = _Capture(limits.stdout_kb * 1024)
        self.stderr = _Capture(limits.stdout_kb * 1024)
        self.status: dict[str, Any] | None = None
        self.status_buffer = bytearray()
        self.last_usage: dict[str, Any] = {}
        self._start()

    # -- life
    def _start(self) -> None:
        if sys.platform == "win32":
            raise WorkerStartError(
                "isolated workers need a POSIX system (Linux for namespaces)",
                function=self.function,
                filename=self.filename,
                hint="run strict functions on Linux (or macOS, without namespaces)",
            )
        self.workdir = tempfile.mkdtemp(prefix="openhcs-isolated-")
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        self.status_r, status_w = os.pipe()
        home = os.path.expanduser("~")
        hidden = list(self.limits.hidden_paths)
        if home not in ("", "/", "~"):
            hidden.append(home)
        config = {
            "request_fd": req_r,
            "response_fd": resp_w,
            "status_fd": status_w,
            "limits": self.limits._config(),
            "namespaces": bool(self.limits.namespaces),
            "filesystem": bool(self.limits.filesystem),
            "hidden_paths": hidden,
            "visible_paths": _needed_paths(self.limits.visible_paths),
            "workdir": self.workdir,
            "env": _env(self.workdir),
            "package_parent": str(_PACKAGE_PARENT),
            "parent_pid": os.getpid(),
        }
        executable = sys.executable
        try:
            if not executable:
                raise OSError("sys.executable is empty (an embedded interpreter?)")
            self.proc = subprocess.Popen(
                [executable, "-I", "-B", _worker.__file__, json.dumps(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(req_r, resp_w, status_w),
                start_new_session=True,
                cwd=self.workdir,
                env=_env(self.workdir),
            )
        except OSError as exc:
            for fd in (self.req_w, self.resp_r, self.status_r):
                os.close(fd)
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise WorkerStartError(
                f"could not start the isolated worker ({exc})",
                function=self.function,
                filename=self.filename,
                hint="check that this Python can run `python -I`",
            ) from exc
        finally:
            for fd in (req_r, resp_w, status_w):
                os.close(fd)
        os.set_blocking(self.req_w, False)
        _LIVE_WORKERS.add(self)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.status is None

    def kill(self) -> None:
        """Kill the worker and everything it started; remove its folder."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGSTOP)
        except OSError:
            pass
        # Without a pid namespace, descendants that left the process group are found by
        # their parent links (orphans were adopted by the supervisor, a subreaper).
        killed = _worker.kill_descendants(proc.pid)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            proc.kill()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        # A killed process frees its memory before it is gone; wait for that (briefly), so
        # that nothing of the worker runs once close() returns.
        _worker.wait_gone(killed, timeout=5.0)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        for fd in (self.req_w, self.resp_r, self.status_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.workdir, ignore_errors=True)
        _LIVE_WORKERS.discard(self)

    close = kill

    # -- talking
    def _error(self, cls: type[IsolationError], message: str, **kw: Any) -> IsolationError:
        kw.setdefault("function", self.function)
        kw.setdefault("filename", self.filename)
        kw.setdefault("output", self.stderr.text())
        kw.setdefault("report", self.report)
        return cls(message, **kw)

    def exchange(
        self, header: dict[str, Any], arrays: Sequence[np.ndarray] = (), *, what: str
    ) -> tuple[dict[str, Any], list[np.ndarray]]:
        """Send one request, return the response. Any failure kills the worker and raises."""
        if self.proc is None:
            raise self._error(WorkerStartError, "the worker is no longer running")
        try:
            return self._exchange(header, arrays, what)
        except BaseException:  # an IsolationError, or anything else (KeyboardInterrupt too)
            self.kill()
            raise

    def _exchange(
        self, header: dict[str, Any], arrays: Sequence[np.ndarray], what: str
    ) -> tuple[dict[str, Any], list[np.ndarray]]:
        assert self.proc is not None and self.proc.stdout and self.proc.stderr
        header = dict(header)
        header["arrays"] = [
            {"dtype": a.dtype.str, "shape": list(a.shape), "nbytes": int(a.nbytes)} for a in arrays
        ]
        outgoing = [memoryview(_worker.encode_frame(header))]
        outgoing += [memoryview(a).cast("B") for a in arrays if a.nbytes]
        limit = self.limits.max_output_mb * 2**20
        reader = _FrameReader(min(MAX_METADATA_BYTES, max(limit, 1 << 20)), limit)
        self.stdout.reset()
        self.stderr.reset()
        out_fd, err_fd = self.proc.stdout.fileno(), self.proc.stderr.fileno()
        selector = selectors.DefaultSelector()
        selector.register(self.req_w, selectors.EVENT_WRITE)
        for fd in (self.resp_r, out_fd, err_fd, self.status_r):
            selector.register(fd, selectors.EVENT_READ)
        start = time.monotonic()
        deadline = start + self.limits.wall_seconds
        response_eof = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._error(
                        WorkerTimeout,
                        f"{what} took longer than {self.limits.wall_seconds:g} s (wall clock); "
                        "the worker was stopped",
                        hint="make it faster or run it on smaller images, or raise the limit: "
                        + _SETTINGS_HINT.format(key="wall_seconds"),
                    )
                for key, _ in selector.select(remaining):
                    fd = key.fd
                    if fd == self.req_w:
                        try:
                            written = os.write(fd, outgoing[0][: 1 << 20])
                        except BlockingIOError:
                            continue
                        except BrokenPipeError:
                            outgoing.clear()
                        else:
                            outgoing[0] = outgoing[0][written:]
                            if not outgoing[0]:
                                outgoing.pop(0)
                        if not outgoing:
                            selector.unregister(fd)
                    elif fd == self.resp_r:
                        try:
                            eof = reader.feed_from(fd)
                        except _Refused as exc:
                            raise self._error(
                                ResultRejected,
                                f"the worker's answer was refused: {exc}",
                                hint="return plain numpy arrays (bool, integer, float or "
                                "complex) and JSON-like metadata",
                            ) from None
                        if reader.done:
                            return self._finish(reader, start)
                        if eof:
                            response_eof = True
                            selector.unregister(fd)
                    elif fd in (out_fd, err_fd):
                        chunk = os.read(fd, 65536)
                        if not chunk:
                            selector.unregister(fd)
                            continue
                        capture = self.stdout if fd == out_fd else self.stderr
                        if capture.add(chunk):
                            name = "stdout" if fd == out_fd else "stderr"
                            raise self._error(
                                OutputFlood,
                                f"the code wrote more than {self.limits.stdout_kb} KiB to "
                                f"{name} in one call; the worker was stopped",
                                hint="print less (or log to a result), or raise the limit: "
                                + _SETTINGS_HINT.format(key="stdout_kb"),
                            )
                    elif fd == self.status_r:
                        chunk = os.read(fd, 4096)
                        self.status_buffer += chunk
                        if not chunk or b"\n" in self.status_buffer:
                            selector.unregister(fd)
                            self._read_status()
                            self._drain(reader, out_fd, err_fd)
                            if reader.done:
                                return self._finish(reader, start)
                            raise self._died(what)
                if response_eof and self.status is None:
                    # The job closed its end: its status follows within moments.
                    self._wait_status(min(2.0, max(deadline - time.monotonic(), 0.1)))
                    self._drain(reader, out_fd, err_fd)
                    raise self._died(what)
        finally:
            selector.close()

    def _finish(
        self, reader: _FrameReader, start: float
    ) -> tuple[dict[str, Any], list[np.ndarray]]:
        assert reader.header is not None
        usage = reader.header.get("usage", {})
        figures = {
            key: _amount(usage.get(key, 0)) if isinstance(usage, dict) else None
            for key in ("cpu", "maxrss_kb")
        }
        if None in figures.values():
            raise self._error(
                ResultRejected,
                "the worker's answer was refused: its usage figures are malformed",
                hint="return plain numpy arrays and JSON-like metadata",
            )
        self.last_usage = figures
        if "cpu" in usage:
            self.cpu_used = figures["cpu"]
        self.last_wall = time.monotonic() - start
        return reader.header, reader.arrays

    def _read_status(self) -> None:
        line = bytes(self.status_buffer).split(b"\n", 1)[0]
        try:
            status = json.loads(line) if line else {}
        except ValueError:
            status = {}
        self.status = status if isinstance(status, dict) else {}

    def _wait_status(self, timeout: float) -> None:
        end = time.monotonic() + timeout
        while self.status is None:
            left = end - time.monotonic()
            if left <= 0:
                self.status = {}
                return
            ready, _, _ = _select([self.status_r], left)
            if not ready:
                continue
            chunk = os.read(self.status_r, 4096)
            self.status_buffer += chunk
            if not chunk or b"\n" in self.status_buffer:
                self._read_status()

    def _drain(self, reader: _FrameReader, out_fd: int, err_fd: int) -> None:
        """Read what the dead job left in the pipes (its last output, a finished answer)."""
        for fd, capture in ((out_fd, self.stdout), (err_fd, self.stderr)):
            for _ in range(64):
                ready, _, _ = _select([fd], 0.05)
                if not ready:
                    break
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                capture.add(chunk)
        try:
            for _ in range(1 << 16):
                if reader.done:
                    break
                ready, _, _ = _select([self.resp_r], 0.05)
                if not ready or reader.feed_from(self.resp_r):
                    break
        except (_Refused, OSError):
            pass

    def _died(self, what: str) -> IsolationError:
        status = self.status or {}
        sig = status.get("signal")
        code = status.get("exit")
        cpu = status.get("cpu")
        cpu_text = f" after {cpu:.1f} s of CPU" if isinstance(cpu, (int, float)) else ""
        if isinstance(sig, int):
            name = _signal_name(sig)
            if name == "SIGXCPU" or (
                name == "SIGKILL"
                and isinstance(cpu, (int, float))
                and cpu >= self.limits.cpu_hard_seconds - 1
            ):
                return self._error(
                    WorkerCPULimit,
                    f"{what} used more than {self.limits.cpu_seconds} s of CPU time; the kernel "
                    "stopped the worker",
                    hint="make it faster or run it on smaller images, or raise the limit: "
                    + _SETTINGS_HINT.format(key="cpu_seconds"),
                )
            return self._error(
                WorkerCrashed,
                f"the worker crashed with {name} during {what}{cpu_text}",
                signal_name=name,
                hint=_SIGNAL_HINTS.get(name, "a crash in compiled code")
                + "; this process is unaffected and the next call starts a new worker",
            )
        if isinstance(code, int):
            if code == 70 and "Traceback" in self.stderr.text():
                return self._error(
                    WorkerCrashed,
                    f"the isolated worker failed during {what}",
                    signal_name="",
                    hint="see the worker output below",
                )
            return self._error(
                WorkerExited,
                f"the code ended the worker (exit status {code}) during {what}",
                exit_code=code,
                hint="functions must return their result, not call exit(), sys.exit() or "
                "os._exit()",
            )
        return self._error(
            WorkerCrashed,
            f"the worker disappeared during {what} (no exit status)",
            hint="it was killed from outside, or its supervisor was",
        )


def _amount(value: Any) -> float | None:
    """``value`` as a finite float >= 0, or None (a forged header can hold anything)."""
    if type(value) not in (int, float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _select(fds: list[int], timeout: float) -> tuple[list[int], list[int], list[int]]:
    import select

    return select.select(fds, [], [], timeout)


def _close_all_workers() -> None:
    for worker in list(_LIVE_WORKERS):
        worker.kill()


atexit.register(_close_all_workers)


# -- values across the boundary -------------------------------------------------------------------


def _encode_argument(value: Any, arrays: list[np.ndarray], where: str, depth: int = 0) -> Any:
    """Arguments the parent sends: arrays, numbers, strings, lists, tuples, dicts."""
    if depth > _worker.MAX_DEPTH:
        raise TypeError(f"{where} is nested too deeply to send to an isolated worker")
    if value is None or type(value) in (bool, int, str, float):
        return value
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(np.asarray(value).view(np.ndarray))
        if array.dtype.kind not in _worker.ARRAY_KINDS or array.dtype.fields is not None:
            raise TypeError(f"{where} has dtype {array.dtype}, which cannot be sent to a worker")
        arrays.append(array)
        return {"$array": len(arrays) - 1}
    from openhcs_plugins.memory.detect import memory_type_of_type

    if memory_type_of_type(type(value)) is not None:
        from openhcs_plugins.memory.convert import convert_memory

        return _encode_argument(
            convert_memory(value, "numpy", device="cpu", writable=False), arrays, where, depth
        )
    if isinstance(value, np.generic):
        return _encode_argument(value.item(), arrays, where, depth + 1)
    import enum

    if isinstance(value, enum.Enum):
        return _encode_argument(value.value, arrays, where, depth + 1)
    if isinstance(value, complex):
        return {"$complex": [value.real, value.imag]}
    if isinstance(value, (bool, int, float, str)):
        base = next(t for t in (bool, int, float, str) if isinstance(value, t))
        return base(value)
    if isinstance(value, tuple):
        return {
            "$tuple": [
                _encode_argument(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)
            ]
        }
    if isinstance(value, list):
        return [
            _encode_argument(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)
        ]
    if isinstance(value, dict):
        return {
            "$dict": [
                [
                    _encode_argument(k, arrays, f"{where} key", depth + 1),
                    _encode_argument(v, arrays, f"{where}[{k!r}]", depth + 1),
                ]
                for k, v in value.items()
            ]
        }
    raise TypeError(
        f"{where} is a {type(value).__qualname__}; isolated functions take arrays, numbers, "
        "strings, lists, tuples and dicts"
    )


# -- runners ---------------------------------------------------------------------------------------


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
        **limit_overrides: Any,
    ) -> None:
        if (source_text is None) == (module is None):
            raise ValueError("give either source_text or module")
        #: the registry key of the function (``runner_for``), named in contract errors.
        self.key = key
        self.source_text = source_text
        self.module = module
        self.function_name = function_name
        self.filename = filename if module is None else f"<{module}>"
        self.limits = _limits(limits, limit_overrides)
        self._worker: _Worker | None = None
        self._functions: dict[str, IsolatedFunctionInfo] = {}
        self._lock = threading.RLock()
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
        if worker is not None:
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
                self._worker.kill()
                self._worker = None

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

    def _ensure(self) -> _Worker:
        worker = self._worker
        if worker is not None:
            # Replace a warm worker before a call could reach its lifetime CPU limit.
            if worker.alive and (
                worker.cpu_used + self.limits.cpu_seconds < self.limits.cpu_hard_seconds - 1
            ):
                return worker
            worker.kill()  # also one that ended: its folder and pipes go with it
        self._worker = None
        worker = _Worker(self.limits, function=self._name(None), filename=self.filename)
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

    def _load(self, worker: _Worker) -> dict[str, IsolatedFunctionInfo]:
        """Read the worker's report, load the code, return the functions it found."""
        # The report is read before any user code runs in the worker, so that code cannot
        # forge it (it could write frames to the pipe while it loads).
        header, _ = worker.exchange({"op": "report"}, what="starting the worker")
        worker.report = self._report = IsolationReport.from_worker(header.get("report") or {})
        request: dict[str, Any] = {"op": "load", "filename": self.filename}
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

    def _response_error(self, worker: _Worker, header: dict[str, Any], what: str) -> IsolationError:
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
                + _SETTINGS_HINT.format(key="memory_mb"),
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
            encoded_args = [_encode_argument(image, arrays, "image")]
            encoded_args += [
                _encode_argument(a, arrays, f"argument {i + 2}") for i, a in enumerate(args)
            ]
            encoded_kwargs = {
                "$dict": [[k, _encode_argument(v, arrays, k)] for k, v in params.items()]
            }
            worker = self._ensure()
            worker.function = name
            request = {
                "op": "call",
                "function": name,
                "args": encoded_args,
                "kwargs": encoded_kwargs,
            }
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
                value = _worker.decode(header.get("value"), out_arrays)
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

    def _record(self, worker: _Worker, cpu_before: float) -> None:
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


def probe_protections(limits: IsolationLimits | None = None) -> IsolationReport:
    """Start a worker, ask which protections it has, kill it (``openhcs-plugins doctor``).

    Costs one worker start without numpy (about 50 ms).
    """
    limits = limits if limits is not None else IsolationLimits.from_settings()
    worker = _Worker(limits, function="", filename="<doctor>")
    try:
        header, _ = worker.exchange({"op": "report"}, what="the protection probe")
        return IsolationReport.from_worker(header.get("report") or {})
    finally:
        worker.kill()


# -- validate --isolated -----------------------------------------------------------------------


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


# -- strict functions: proxies in the host ---------------------------------------------------------


class _SourceText:
    """A default value shown as its source text (the real value lives in the worker)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _default(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _SourceText(text)


def _signature(function: StaticFunction) -> inspect.Signature:
    """The function's signature from its static reading, plus the injected
    ``slice_by_slice`` like the decorators add it."""
    kinds = inspect.Parameter
    params: list[inspect.Parameter] = []
    if function.static_signature and function.parameters:
        for p in function.parameters:
            params.append(
                kinds(
                    p.name,
                    getattr(kinds, p.kind),
                    default=kinds.empty if p.default is None else _default(p.default),
                    annotation=kinds.empty if p.annotation is None else p.annotation,
                )
            )
    else:
        params = [
            kinds("image", kinds.POSITIONAL_OR_KEYWORD),
            kinds("args", kinds.VAR_POSITIONAL),
            kinds("kwargs", kinds.VAR_KEYWORD),
        ]
    if not any(p.name == "slice_by_slice" for p in params):
        injected = kinds("slice_by_slice", kinds.KEYWORD_ONLY, default=False, annotation=bool)
        if params and params[-1].kind is kinds.VAR_KEYWORD:
            params.insert(len(params) - 1, injected)
        else:
            params.append(injected)
    try:
        return inspect.Signature(params)
    except (ValueError, TypeError):
        return inspect.Signature(
            [
                kinds("image", kinds.POSITIONAL_OR_KEYWORD),
                kinds("args", kinds.VAR_POSITIONAL),
                kinds("slice_by_slice", kinds.KEYWORD_ONLY, default=False, annotation=bool),
                kinds("kwargs", kinds.VAR_KEYWORD),
            ]
        )


def is_isolated(func: Any) -> bool:
    """True for a strict function's proxy (its calls run in an isolated worker)."""
    return bool(getattr(func, "__openhcs_isolated__", False))


def _proxy(
    runner: IsolatedRunner, function: StaticFunction, module_name: str
) -> Callable[..., Any]:
    from openhcs_plugins.memory.convert import convert_memory
    from openhcs_plugins.memory.detect import memory_type_of_type
    from openhcs_plugins.memory.types import CONTRACT_ATTRIBUTE, DECORATED_MARKER

    signature = _signature(function)
    name = function.name
    output = function.output_memory_type

    def proxy(*args: Any, **kwargs: Any) -> Any:
        if function.static_signature:
            signature.bind(*args, **kwargs)
        if args:
            image, rest = args[0], args[1:]
        elif "image" in kwargs:
            image, rest = kwargs.pop("image"), ()
        else:
            raise TypeError(f"{name}() missing required argument: 'image'")
        if kwargs.get("slice_by_slice") is False:
            del kwargs["slice_by_slice"]
        result = runner.call_function(name, image, *rest, **kwargs)
        if output == "numpy":
            return result
        if type(result) is tuple and result:
            head = result[0]
            if memory_type_of_type(type(head)) is not None:
                return (convert_memory(head, output), *result[1:])
            return result
        if memory_type_of_type(type(result)) is not None:
            return convert_memory(result, output)
        return result

    proxy.__name__ = name
    proxy.__qualname__ = name
    proxy.__module__ = module_name
    proxy.__doc__ = function.doc or None
    proxy.__signature__ = signature  # type: ignore[attr-defined]
    proxy.input_memory_type = function.input_memory_type  # type: ignore[attr-defined]
    proxy.output_memory_type = output  # type: ignore[attr-defined]
    proxy.backend = function.input_memory_type  # type: ignore[attr-defined]
    proxy.__openhcs_isolated__ = True  # type: ignore[attr-defined]
    proxy.__openhcs_isolated_runner__ = runner  # type: ignore[attr-defined]
    setattr(proxy, CONTRACT_ATTRIBUTE, function.contract)
    setattr(proxy, DECORATED_MARKER, True)
    return proxy


def isolated_module(
    candidate: Candidate,
    functions: Sequence[StaticFunction] | None = None,
    *,
    limits: IsolationLimits | None = None,
) -> types.ModuleType:
    """A module of proxies for a ``strict`` candidate: the code runs only in a worker.

    The host never executes the text, not even to read signatures (they come from the static
    reading). The worker is started now, so that an error at load time is reported like one
    in the host would be (:class:`~openhcs_plugins._inprocess.CodeExecutionError`); it stays
    warm for the candidate's calls and is shut down after ``idle_seconds`` (default 60) idle.
    """
    from openhcs_plugins._inprocess import CodeExecutionError, module_name_for

    filename = candidate.filename
    if functions is None:
        from openhcs_plugins.config import load_settings
        from openhcs_plugins.validation import validate_code

        settings = load_settings()
        result = validate_code(
            candidate.text,
            trust=candidate.trust,
            policy=settings.import_policy(),
            filename=filename,
        )
        if not result.is_valid:
            first = result.errors[0]
            raise CodeExecutionError(
                filename,
                f"strict code must pass validation first: {first.message}",
                first.line_number,
                first.code_snippet,
            )
        functions = result.functions
        if limits is None:
            limits = IsolationLimits.from_settings(settings)
    if limits is None:
        limits = IsolationLimits.from_settings()
    if limits.idle_seconds is None:
        limits = replace(limits, idle_seconds=60.0)
    name = module_name_for(candidate)
    runner = IsolatedRunner(candidate.text, filename=filename, limits=limits)
    try:
        found = runner.functions
    except LoadFailed as exc:
        lines = candidate.text.splitlines()
        line = exc.line_number
        snippet = lines[line - 1] if 0 < line <= len(lines) else ""
        raise CodeExecutionError(filename, exc.message, line, snippet) from exc
    except IsolationError as exc:
        raise CodeExecutionError(filename, str(exc)) from exc
    module = types.ModuleType(name)
    module.__file__ = filename
    for function in functions:
        info = found.get(function.name)
        if info is None:
            runner.close()
            raise CodeExecutionError(
                filename,
                f"after running the file in the isolated worker, {function.name!r} is not a "
                "memory-decorated function (was it rebound after its definition?)",
                function.line,
            )
        declared = (info.input_memory_type, info.output_memory_type, info.contract)
        read = (function.input_memory_type, function.output_memory_type, function.contract)
        if declared != read:
            runner.close()
            raise CodeExecutionError(
                filename,
                f"{function.name!r} declares {declared[0]} -> {declared[1]} ({declared[2]}) "
                f"when run, but its source reads {read[0]} -> {read[1]} ({read[2]})",
                function.line,
            )
        module.__dict__[function.name] = _proxy(runner, function, name)
    module.__dict__["__openhcs_isolated_runner__"] = runner
    return module


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
