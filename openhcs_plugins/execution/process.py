"""One isolated worker process, seen from the parent: starting it, talking to it, killing it.

:class:`WorkerProcess` starts the worker script (:mod:`openhcs_plugins.execution.worker`, by
path, as ``python -I -B``) with its configuration, exchanges one frame at a time under the
wall-clock limit while draining its output, and turns every way the worker can end into an
:class:`~openhcs_plugins.execution.errors.IsolationError`. Every live worker is killed at exit.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from openhcs_plugins.execution.channel import FrameReader, OutputCapture, Refused
from openhcs_plugins.execution.errors import (
    IsolationError,
    OutputFlood,
    ResultRejected,
    WorkerCPULimit,
    WorkerCrashed,
    WorkerExited,
    WorkerStartError,
    WorkerTimeout,
)
from openhcs_plugins.execution.limits import SETTINGS_HINT, IsolationLimits
from openhcs_plugins.execution.processes import kill_descendants, wait_gone
from openhcs_plugins.execution.protocol import encode_frame, scratch_environment
from openhcs_plugins.execution.report import IsolationReport

__all__ = ["ENV_PASSED", "MAX_METADATA_BYTES", "WORKER_SCRIPT", "WorkerProcess"]

#: Largest JSON header (metadata) accepted from a worker.
MAX_METADATA_BYTES = 16 * 1024 * 1024
#: Environment variables passed to the worker (everything else, secrets included, is not).
ENV_PASSED = (
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


#: Set in every worker. A warm worker receives and returns a new image at every call: with
#: glibc's defaults each buffer over 128 KiB is a fresh mmap whose pages fault in again (about
#: a millisecond per MiB); from the heap, they are reused (docs/performance-isolation.md). The
#: memory limit (RLIMIT_AS) still holds.
WORKER_ENVIRONMENT = {
    "MALLOC_MMAP_THRESHOLD_": str(64 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
}


def _env(workdir: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in ENV_PASSED if os.environ.get(k)}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.update(scratch_environment(workdir))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(WORKER_ENVIRONMENT)
    return env


def _needed_paths(extra: Iterable[str]) -> list[str]:
    """What the worker must see: this Python, its packages (every folder of the import path),
    this package, plugin locations."""
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
    # Every folder of this interpreter's import path (but the script's or working folder
    # first): a .pth file may put packages anywhere, a user site or a layered venv under a
    # folder the worker hides (home, /tmp). They stay read-only there.
    paths.update(p for p in sys.path[1:] if p and os.path.isdir(p))
    paths.update(extra)
    return sorted(os.path.realpath(p) for p in paths if p)


#: The folder that holds ``openhcs_plugins`` (the job puts it on ``sys.path``).
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]
#: The worker script, started by path: ``python -I -B WORKER_SCRIPT CONFIG``.
WORKER_SCRIPT = str(Path(__file__).resolve().with_name("worker.py"))
_LIVE_WORKERS: weakref.WeakSet[WorkerProcess] = weakref.WeakSet()


class WorkerProcess:
    """One worker process and the pipes to it. Not thread-safe (the runner locks)."""

    def __init__(self, limits: IsolationLimits, *, function: str, filename: str) -> None:
        self.limits = limits
        self.function = function
        self.filename = filename
        self.proc: subprocess.Popen[bytes] | None = None
        self.report: IsolationReport | None = None
        self.cpu_used = 0.0
        self.stdout = OutputCapture(limits.stdout_kb * 1024)
        self.stderr = OutputCapture(limits.stdout_kb * 1024)
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
                [executable, "-I", "-B", WORKER_SCRIPT, json.dumps(config)],
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
        killed = kill_descendants(proc.pid)
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
        wait_gone(killed, timeout=5.0)
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
        outgoing = [memoryview(encode_frame(header))]
        outgoing += [memoryview(a).cast("B") for a in arrays if a.nbytes]
        limit = self.limits.max_output_mb * 2**20
        reader = FrameReader(min(MAX_METADATA_BYTES, max(limit, 1 << 20)), limit)
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
                        + SETTINGS_HINT.format(key="wall_seconds"),
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
                        except Refused as exc:
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
                                + SETTINGS_HINT.format(key="stdout_kb"),
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
                    # The job closed its end: its status follows within moments, or within
                    # seconds on a loaded machine (a status lost to a short wait reads as "the
                    # worker disappeared", and the real exit status or signal is lost with it).
                    self._wait_status(min(5.0, max(deadline - time.monotonic(), 2.0)))
                    self._drain(reader, out_fd, err_fd)
                    raise self._died(what)
        finally:
            selector.close()

    def _finish(self, reader: FrameReader, start: float) -> tuple[dict[str, Any], list[np.ndarray]]:
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

    def _drain(self, reader: FrameReader, out_fd: int, err_fd: int) -> None:
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
        except (Refused, OSError):
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
                    + SETTINGS_HINT.format(key="cpu_seconds"),
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
