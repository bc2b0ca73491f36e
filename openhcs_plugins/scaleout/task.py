"""What a Dask worker runs: the environment check before a batch (:func:`check_worker`) and
one task per input (:func:`run_task`).

Both are module-level functions of this installed package, so Dask sends them by name: the
worker must have openhcs-plugins installed (docs/distributed.md). A task never raises for a bad
input: it returns the error, so Dask does not retry it elsewhere; only a worker that dies makes
Dask run the task again, and then :func:`openhcs_plugins.batch.process_file` finds the output
this batch already wrote and writes nothing twice.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openhcs_plugins.scaleout.shipping import ShippedFunction

__all__ = ["BatchSpec", "check_worker", "run_task"]


@dataclass(frozen=True)
class BatchSpec:
    """What every task of one batch shares."""

    #: a fresh id per batch: written into each output's provenance (``batch``).
    batch: str
    key: str
    params: dict[str, Any]
    isolated: bool
    #: the environment every worker must have (:func:`~.environment.expected_environment`).
    expected: dict[str, Any]
    shipped: ShippedFunction | None = None


#: batches whose environment check passed in this process (the check runs before the first
#: task; a task on a process that was not checked checks itself).
_ACCEPTED: set[str] = set()
_ACCEPTED_LOCK = threading.Lock()


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None


def _where() -> dict[str, Any]:
    return {"host": socket.gethostname(), "address": _worker_address(), "pid": os.getpid()}


def _folder_problem(folder: Path, probe: Path | None) -> str | None:
    """Why this worker cannot write its outputs into ``folder`` (None: it can)."""
    if probe is not None and not probe.exists():
        return (
            f"cannot see {folder} as the client does (its marker file {probe.name} is not "
            "there): the output folder must be on a filesystem every worker mounts at the same "
            "path"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".openhcs-plugins-probe-"):
            pass
    except OSError as exc:
        return f"cannot write to {folder}: {exc}"
    return None


def check_worker(
    expected: dict[str, Any],
    batch: str,
    folders: list[str],
    probe: str | None = None,
    first_input: str | None = None,
) -> dict[str, Any]:
    """This worker's answer before a batch: where it is, how its plugin environment differs
    from ``expected`` (``drifts``, one line each) and what it cannot reach (``problems``: the
    output ``folders``, with the client's ``probe`` file in the first; the ``first_input``)."""
    from openhcs_plugins.scaleout.environment import process_differences

    drifts = process_differences(expected)
    problems = []
    for index, folder in enumerate(folders):
        problem = _folder_problem(Path(folder), Path(probe) if probe and index == 0 else None)
        if problem is not None:
            problems.append(problem)
    if first_input is not None and not Path(first_input).is_file():
        problems.append(
            f"cannot see the input {first_input}: inputs must be on a filesystem every worker "
            "mounts at the same path"
        )
    if not drifts and not problems:
        with _ACCEPTED_LOCK:
            _ACCEPTED.add(batch)
    return {**_where(), "drifts": drifts, "problems": problems}


def _verify(spec: BatchSpec) -> None:
    from openhcs_plugins.scaleout.environment import EnvironmentMismatch, process_differences

    with _ACCEPTED_LOCK:
        if spec.batch in _ACCEPTED:
            return
    lines = process_differences(spec.expected)
    if lines:
        where = _where()
        raise EnvironmentMismatch(f"worker {where['address']} on {where['host']}", lines)
    with _ACCEPTED_LOCK:
        _ACCEPTED.add(spec.batch)


def run_task(spec: BatchSpec, path: str, target: str) -> dict[str, Any]:
    """Run ``spec``'s function on the input ``path``, writing ``target`` (and its artifact
    outputs). Returns ``{"error", "written", "worker"}``: ``error`` is None or
    ``"Type: message"``; ``written`` is False when the output was already complete from this
    batch (a retry) or nothing was written."""
    from openhcs_plugins._batch_file import process_file
    from openhcs_plugins.scaleout.shipping import resolve

    where = _where()
    try:
        _verify(spec)
        resolved = resolve(spec.key, spec.shipped, spec.isolated)

        def annotate() -> dict[str, Any]:
            return {"worker": where, **resolved.annotate()}

        made = process_file(
            spec.key,
            resolved.info,
            lambda stack: resolved.call(stack, spec.params),
            resolved.outputs,
            spec.params,
            Path(path),
            Path(target),
            annotate=annotate,
            batch=spec.batch,
        )
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "written": False, "worker": where}
    return {"error": None, "written": made is not None, "worker": where}
