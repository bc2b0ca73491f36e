"""Finding, waiting for and killing the worker's processes (standard library only).

Used by the worker's supervisor (:mod:`openhcs_plugins.execution.worker`, before any
third-party import) and by the parent, which kills a worker's whole tree
(:mod:`openhcs_plugins.execution.process`). Descendants are found by their parent links in
``/proc``, so processes that left the worker's process group are found too.
"""

from __future__ import annotations

import os
import resource
import signal
import time

__all__ = ["descendants", "kill_descendants", "status_of", "wait_for", "wait_gone"]


def status_of(status: int, usage: resource.struct_rusage) -> dict:
    out: dict = {
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,
        "exit": None,
        "signal": None,
    }
    if os.WIFSIGNALED(status):
        out["signal"] = os.WTERMSIG(status)
    elif os.WIFEXITED(status):
        out["exit"] = os.WEXITSTATUS(status)
    return out


def descendants(root: int) -> list[int]:
    """Processes below ``root`` (by parent pid, read from /proc)."""
    parents: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(int(name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants(root: int) -> set[int]:
    """Stop every descendant, then kill them all (so none can fork away in between); returns
    the pids killed."""
    seen: set[int] = set()
    for _ in range(100):
        new = [pid for pid in descendants(root) if pid not in seen]
        if not new:
            break
        for pid in new:
            seen.add(pid)
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return seen


def wait_gone(pids: set[int], timeout: float) -> None:
    """Wait until none of ``pids`` runs any more (gone, or a zombie waiting to be reaped)."""
    end = time.monotonic() + timeout
    left = set(pids)
    while left and time.monotonic() < end:
        for pid in list(left):
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    data = handle.read()
                state = data[data.rfind(b")") + 2 : data.rfind(b")") + 3]
            except OSError:
                state = b"X"
            if state in (b"Z", b"X"):
                left.discard(pid)
        if left:
            time.sleep(0.01)


def wait_for(child: int, parent_pid: int) -> tuple[int, resource.struct_rusage] | None:
    """Wait for ``child`` (reaping any adopted orphans meanwhile); None when our own parent
    died first (checked twice a second, so a worker never outlives the program that started
    it)."""
    import select

    try:
        fd = os.pidfd_open(child)
    except (AttributeError, OSError):
        fd = None
    try:
        while True:
            while True:
                try:
                    pid, status, usage = os.wait4(-1, os.WNOHANG)
                except ChildProcessError:
                    return 0, resource.getrusage(resource.RUSAGE_CHILDREN)
                if pid == 0:
                    break
                if pid == child:
                    return status, usage
            if os.getppid() != parent_pid:
                return None
            if fd is not None:
                try:
                    select.select([fd], [], [], 0.5)
                except InterruptedError:
                    pass
            else:
                time.sleep(0.02)
    finally:
        if fd is not None:
            os.close(fd)
