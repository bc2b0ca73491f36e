"""Shared warm workers: one isolated worker per memory type serves every untrusted file.

A folder of untrusted files would otherwise start one worker per file (each paying the cold
start: a new process, its limits, numpy's import) and keep them all in memory. Instead, the
proxies of ``strict`` candidates (:mod:`.proxy`) load their file into the shared worker of their
memory type (:func:`shared_worker`), each file under its own slot so that functions of the same
name in two files stay apart. One lock (:data:`SHARED_LOCK`) serialises the requests to shared
workers. A worker that crashed, timed out or reached its lifetime CPU limit is discarded, never
reused: the next call starts a new one and every file is loaded into it again. A worker idle for
``idle_seconds`` is stopped. What the files of one worker share (module-level state, numpy's
settings inside the worker) is written in docs/security.md. It imports only the standard
library and the worker process of this package.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from openhcs_plugins.execution.limits import IsolationLimits
from openhcs_plugins.execution.process import WorkerProcess

__all__ = ["SHARED_LOCK", "SharedWorker", "close_shared_workers", "shared_worker"]

#: Held around every request to a shared worker (and by the runners that use one).
SHARED_LOCK = threading.RLock()
_POOL: dict[tuple[str, IsolationLimits], SharedWorker] = {}
_SLOTS = itertools.count(1)


@dataclass(eq=False)
class SharedWorker:
    """A warm worker and the files loaded into it."""

    key: tuple[str, IsolationLimits]
    worker: WorkerProcess
    _slots: dict[int, str] = field(default_factory=dict)
    _timer: threading.Timer | None = None

    def slot_for(self, runner: Any) -> str:
        """The slot a runner's file is loaded under in this worker."""
        slot = runner.__dict__.get("_pool_slot")
        if slot is None:
            slot = runner.__dict__["_pool_slot"] = f"s{next(_SLOTS)}"
        return slot

    def discard(self) -> None:
        """Kill the worker and forget it (the next call starts a new one)."""
        with SHARED_LOCK:
            if _POOL.get(self.key) is self:
                del _POOL[self.key]
            if self._timer is not None:
                self._timer.cancel()
            self.worker.kill()

    def touch(self, idle_seconds: float | None) -> None:
        """Stop the worker after ``idle_seconds`` without requests."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if idle_seconds is None:
            return

        def stop() -> None:
            if SHARED_LOCK.acquire(blocking=False):
                try:
                    if self._timer is timer:
                        self.discard()
                finally:
                    SHARED_LOCK.release()

        timer = threading.Timer(idle_seconds, stop)
        timer.daemon = True
        self._timer = timer
        timer.start()


def shared_worker(pool: str, limits: IsolationLimits) -> SharedWorker:
    """The warm worker of ``pool`` (a memory type) for these limits, started if needed."""
    key = (pool, limits)
    with SHARED_LOCK:
        current = _POOL.get(key)
        if current is not None:
            worker = current.worker
            if worker.alive and worker.cpu_used + limits.cpu_seconds < limits.cpu_hard_seconds - 1:
                return current
            current.discard()  # ended, crashed, or near its lifetime CPU limit
        worker = WorkerProcess(limits, function="", filename=f"<shared {pool} worker>")
        current = _POOL[key] = SharedWorker(key, worker)
        return current


def close_shared_workers() -> int:
    """Stop every shared worker (tests, a host shutting down); returns how many ran."""
    with SHARED_LOCK:
        workers = list(_POOL.values())
        for shared in workers:
            shared.discard()
    return len(workers)
