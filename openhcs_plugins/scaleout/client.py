"""The client side of a batch on a Dask cluster: :func:`run_on_cluster`.

Before the first task every worker answers :func:`~.task.check_worker`: its plugin environment
against the expected one (this machine's, or a lock file's), and whether it sees the output
folder and the first input at the same paths. A worker that differs is refused (listed with
its diff in :class:`WorkerCheck`) and gets no task: each task is restricted to the accepted
workers. Workers that join later (a restarted worker, an adaptive cluster) are checked the
same way before they get work.

The client submits the tasks a window at a time (paths in, a small dict out: it never holds an
image), the next window when fewer than a window's worth are left, and fetches the answers of
finished tasks together a few times a second. A task whose workers all vanished is submitted
again to the accepted workers alive; a worker that dies mid-task makes Dask run it again, and
the retry finds a complete output from this batch and writes nothing twice. Ctrl-C cancels
what has not run and raises :class:`BatchCancelled` with what finished.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openhcs_plugins._batch_file import FileResult, output_paths
from openhcs_plugins.errors import OpenHCSPluginsError

__all__ = ["BatchCancelled", "WorkerCheck", "WorkersRefused", "local_client", "run_on_cluster"]

#: How long to wait for a first worker to join the scheduler.
WORKER_WAIT_SECONDS = 60.0
#: How often (seconds) to look for workers that joined or left during a batch.
REFRESH_SECONDS = 1.0
#: How long the client sleeps when no task has finished (the window keeps the workers busy).
POLL_SECONDS = 0.01
#: How often the answers of finished tasks are fetched, together.
GATHER_SECONDS = 0.25


@dataclass
class WorkerCheck:
    """The workers of a batch: accepted (address -> where) and refused (address -> the
    worker's answer: ``host``, ``drifts``, ``problems``, or ``error``)."""

    dashboard: str | None = None
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: dict[str, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def reasons(answer: dict[str, Any]) -> list[str]:
        """The lines that say why a worker was refused."""
        if "error" in answer:
            return [answer["error"]]
        return [*answer.get("problems", []), *answer.get("drifts", [])]

    def describe(self, address: str) -> str:
        """``worker ADDRESS on HOST refused:`` and its reasons, one per line."""
        answer = self.refused[address]
        lines = "\n".join(f"    {line}" for line in self.reasons(answer))
        return f"worker {address} on {answer.get('host', '?')} refused:\n{lines}"


class WorkersRefused(OpenHCSPluginsError, RuntimeError):
    """No worker of the cluster can run the batch (``check``: every worker's answer)."""

    def __init__(self, check: WorkerCheck, hint: str) -> None:
        self.check = check
        text = "\n".join(check.describe(address) for address in sorted(check.refused))
        super().__init__(
            f"no worker can run this batch:\n{text}\n({hint})", subject="workers", hint=hint
        )


class BatchCancelled(OpenHCSPluginsError, RuntimeError):
    """The batch was interrupted (Ctrl-C): ``results`` holds the inputs that finished, each
    output complete; the tasks not started were cancelled."""

    def __init__(self, results: list[FileResult], total: int) -> None:
        self.results = results
        self.total = total
        super().__init__(
            f"cancelled: {len(results)} of {total} input(s) finished (their outputs are "
            "complete); the others were not run"
        )


@contextlib.contextmanager
def local_client(n_workers: int, *, threads_per_worker: int = 1) -> Iterator[Any]:
    """A ``distributed.Client`` on a new ``LocalCluster`` of ``n_workers`` worker processes on
    127.0.0.1 (the dashboard on a free port when bokeh is installed); closed on exit."""
    import importlib.util
    import logging

    from distributed import Client, LocalCluster

    dashboard = "127.0.0.1:0" if importlib.util.find_spec("bokeh") is not None else None
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            host="127.0.0.1",
            dashboard_address=dashboard,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _dashboard(client: Any) -> str | None:
    with contextlib.suppress(Exception):
        info = client.scheduler_info(n_workers=0)
        if info.get("services", {}).get("dashboard") is not None:
            return str(client.dashboard_link)
    return None


def _workers(client: Any) -> set[str]:
    return set(client.scheduler_info(n_workers=-1)["workers"])


def _worker_name(where: dict[str, Any]) -> str:
    """``host (tcp://address)`` from a task's or an output's ``worker`` record."""
    return f"{where.get('host')} ({where.get('address')})"


def _error_of(future: Any) -> str | dict[str, Any] | None:
    """A finished future's task answer, or the error that stands for it."""
    from distributed import KilledWorker

    try:
        return future.result()  # type: ignore[no-any-return]
    except KilledWorker as exc:
        return (
            f"KilledWorker: every worker that ran it died ({exc}); this input may crash the "
            "worker process (out of memory?)"
        )
    except Exception as exc:  # the scheduler lost or cancelled it
        return f"{type(exc).__name__}: {exc}"


class _Batch:
    """One batch's state on the client (see the module docstring)."""

    def __init__(
        self,
        client: Any,
        spec: Any,
        pairs: list[tuple[Path, Path]],
        check: WorkerCheck,
        ask: Callable[[list[str] | None], dict[str, Any]],
        on_workers: Callable[[WorkerCheck], None] | None,
        window: int,
    ) -> None:
        self.client = client
        self.spec = spec
        self.pairs = pairs
        self.check = check
        self.ask = ask
        self.on_workers = on_workers
        self.window = window
        self.futures: dict[Any, tuple[int, frozenset[str]]] = {}
        #: the ``distributed.as_completed`` the futures are added to (set by :func:`_drive`).
        self.finished: Any = None
        self.next_index = 0
        self.refreshed = time.monotonic()
        #: since when no accepted worker is alive (None: one is).
        self.stranded_since: float | None = None

    def submit(self, indices: list[int]) -> None:
        """Submit the tasks of ``indices`` in one message to the scheduler (``client.map``:
        one graph update for the lot, not one per task), restricted to the accepted workers."""
        from openhcs_plugins.scaleout.task import run_task

        allowed = frozenset(self.check.accepted)
        tag = uuid.uuid4().hex[:8]
        futures = self.client.map(
            run_task,
            [self.spec] * len(indices),
            [str(self.pairs[i][0].absolute()) for i in indices],
            [str(self.pairs[i][1].absolute()) for i in indices],
            key=[f"openhcs-plugins-{self.spec.batch}-{i}-{tag}" for i in indices],
            workers=sorted(allowed),
            allow_other_workers=False,
            pure=False,
        )
        for index, future in zip(indices, futures, strict=True):
            self.futures[future] = (index, allowed)
        self.finished.update(futures)

    def fill(self) -> None:
        """Submit the next ``window`` inputs once fewer than ``window`` are outstanding (so at
        most two windows are on the cluster, and the workers never run dry)."""
        while len(self.futures) < self.window and self.next_index < len(self.pairs):
            end = min(self.next_index + self.window, len(self.pairs))
            self.submit(list(range(self.next_index, end)))
            self.next_index = end

    def refresh(self) -> None:
        """Check workers that joined; resubmit tasks none of whose workers is alive."""
        now = time.monotonic()
        if now - self.refreshed < REFRESH_SECONDS:
            return
        self.refreshed = now
        alive = _workers(self.client)
        new = sorted(alive - set(self.check.accepted) - set(self.check.refused))
        if new:
            _sort_answers(self.check, self.ask(new))
            if self.on_workers is not None:
                self.on_workers(self.check)
        for address in set(self.check.accepted) - alive:
            del self.check.accepted[address]
        if not self.check.accepted:
            if self.stranded_since is None:
                self.stranded_since = now
            return
        self.stranded_since = None
        for future, (index, allowed) in list(self.futures.items()):
            if not allowed & alive and future.status == "pending":
                del self.futures[future]
                future.cancel()
                self.submit([index])

    def stranded(self) -> bool:
        """True once no accepted worker has been alive for :data:`WORKER_WAIT_SECONDS`."""
        since = self.stranded_since
        return since is not None and time.monotonic() - since > WORKER_WAIT_SECONDS

    def abandon(self) -> list[tuple[int, FileResult]]:
        """Cancel what is outstanding: a result for each input not reported, done when its
        output holds this batch's provenance (its worker died after writing it), else failed
        with why."""
        from openhcs_plugins._images import read_provenance

        reason = (
            f"not run: no accepted worker was left on the cluster for {WORKER_WAIT_SECONDS:.0f} "
            "s (they died or left); start workers and run again (the outputs written are kept)"
        )
        left = [index for index, _ in self.futures.values()]
        left += range(self.next_index, len(self.pairs))
        self.client.cancel(list(self.futures), force=True)
        self.futures.clear()
        self.next_index = len(self.pairs)
        abandoned = []
        for index in sorted(left):
            path, target = self.pairs[index]
            try:
                recorded = read_provenance(target)
            except Exception:  # absent or not ours: not run
                recorded = {}
            if recorded.get("batch") == self.spec.batch:
                worker = _worker_name(recorded.get("worker") or {})
                abandoned.append((index, FileResult(path, target, worker=worker)))
            else:
                abandoned.append((index, FileResult(path, target, reason, written=False)))
        return abandoned


def _sort_answers(check: WorkerCheck, answers: dict[str, Any]) -> None:
    for address, answer in answers.items():
        if isinstance(answer, BaseException):
            check.refused[address] = {"error": f"{type(answer).__name__}: {answer}"}
        elif answer["drifts"] or answer["problems"]:
            check.refused[address] = answer
        else:
            check.accepted[address] = answer


def run_on_cluster(
    key: str,
    files: list[Path],
    output: Path,
    params: dict[str, Any],
    client: Any,
    *,
    isolated: bool = False,
    lock: dict[str, Any] | None = None,
    preview: Path | None = None,
    on_result: Callable[[FileResult], None] | None = None,
    on_workers: Callable[[WorkerCheck], None] | None = None,
    window: int | None = None,
) -> list[FileResult]:
    """:func:`openhcs_plugins.batch.run_batch` on the Dask cluster of ``client``: one task
    per file, run by the workers, which read the inputs and write the outputs themselves
    (``output`` must be reachable by every worker at the same path).

    ``lock`` (lock file data) is what the workers must match instead of this environment,
    and the function must be the locked one. ``on_workers`` gets the :class:`WorkerCheck`
    before the first task and again when a worker joins. ``window``: how many tasks are
    submitted together (default: 16 per worker thread, at least 32; at most two windows are
    outstanding).

    Raises ValueError for outputs that collide (before anything runs),
    :class:`~.environment.EnvironmentMismatch` when the function is not the locked one,
    :class:`WorkersRefused` when no worker can run the batch, :class:`BatchCancelled` on
    Ctrl-C.
    """
    from openhcs_plugins._images import read_stack, write_preview
    from openhcs_plugins._storage import partial_files
    from openhcs_plugins.registry import get_default_registry
    from openhcs_plugins.scaleout.environment import (
        INSTALL_HINT,
        EnvironmentMismatch,
        expected_environment,
        function_drifts,
    )
    from openhcs_plugins.scaleout.shipping import shipped_function
    from openhcs_plugins.scaleout.task import BatchSpec, check_worker

    info = get_default_registry().info(key)
    targets = output_paths(files, output)
    shipped = shipped_function(info)
    if lock is not None:
        lines = function_drifts(info, lock)
        if lines:
            raise EnvironmentMismatch(
                f"the function {key}", lines, "freeze again (`openhcs-plugins freeze -o FILE`)"
            )
    batch = uuid.uuid4().hex
    spec = BatchSpec(batch, key, dict(params), isolated, expected_environment(lock), shipped)
    folders = sorted({str(target.parent.absolute()) for target in targets})
    probe: Path | None = Path(folders[0]) / f".openhcs-plugins-probe-{batch}"
    try:  # the marker the workers look for: they must see the folder as this machine does
        probe.parent.mkdir(parents=True, exist_ok=True)
        probe.touch()
    except OSError:  # this machine cannot write there: the workers only check that they can
        probe = None
    first_input = str(files[0].absolute()) if files else None

    def ask(addresses: list[str] | None) -> dict[str, Any]:
        return client.run(  # type: ignore[no-any-return]
            check_worker,
            spec.expected,
            batch,
            folders,
            str(probe) if probe is not None else None,
            first_input,
            workers=addresses,
            on_error="return",
        )

    check = WorkerCheck(dashboard=_dashboard(client))
    results: dict[int, FileResult] = {}
    state: _Batch | None = None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except TimeoutError as exc:
            raise WorkersRefused(
                check,
                f"no worker joined the scheduler {client.scheduler.address} in "
                f"{WORKER_WAIT_SECONDS:.0f} s; start one with `dask worker "
                f"{client.scheduler.address}`",
            ) from exc
        _sort_answers(check, ask(None))
        if on_workers is not None:
            on_workers(check)
        if not check.accepted:
            raise WorkersRefused(check, INSTALL_HINT)
        threads = sum(client.nthreads(list(check.accepted)).values()) or 1
        state = _Batch(
            client,
            spec,
            list(zip(files, targets, strict=True)),
            check,
            ask,
            on_workers,
            window or max(32, 16 * threads),
        )
        _drive(state, results, on_result)
    except KeyboardInterrupt:
        if state is not None:
            client.cancel(list(state.futures), force=True)
        raise BatchCancelled([results[i] for i in sorted(results)], len(files)) from None
    finally:
        if probe is not None:
            probe.unlink(missing_ok=True)
        for target in targets:
            for partial in partial_files(target):
                partial.unlink(missing_ok=True)
    ordered = [results[i] for i in range(len(files))]
    if preview is not None:
        done = next((r for r in ordered if r.ok), None)
        if done is not None:
            write_preview(preview, read_stack(done.input), read_stack(done.output))
    return ordered


def _record(
    state: _Batch,
    ready: list[Any],
    results: dict[int, FileResult],
    on_result: Callable[[FileResult], None] | None,
) -> None:
    """The answers of the finished futures ``ready`` (fetched together), as results."""
    current = [f for f in ready if f in state.futures]
    good = [f for f in current if f.status == "finished"]
    answers = dict(zip(good, state.client.gather(good, errors="skip"), strict=False))
    for future in current:
        index, _ = state.futures.pop(future)
        answer = answers.get(future)
        if not isinstance(answer, dict):
            answer = _error_of(future)
        path, target = state.pairs[index]
        if isinstance(answer, dict):
            done = FileResult(
                path,
                target,
                answer["error"],
                worker=_worker_name(answer.get("worker") or {}),
                written=bool(answer["written"]),
            )
        else:
            done = FileResult(path, target, answer, written=False)
        results[index] = done
        if on_result is not None:
            on_result(done)


def _drive(
    state: _Batch,
    results: dict[int, FileResult],
    on_result: Callable[[FileResult], None] | None,
) -> None:
    """Keep the window full until every input has a result. Finished tasks' answers are
    gathered together every :data:`GATHER_SECONDS` (one request to each worker for the lot:
    a request per task would take the worker's interpreter from its running task each time).
    When no accepted worker is left for :data:`WORKER_WAIT_SECONDS`, the inputs not run fail
    with that reason."""
    from distributed import as_completed

    finished = as_completed([])
    state.finished = finished
    state.fill()
    ready: list[Any] = []
    gathered = time.monotonic()
    while state.futures:
        if finished.has_ready():
            ready += finished.next_batch(block=False)
        now = time.monotonic()
        due = bool(ready) and (now - gathered >= GATHER_SECONDS or len(ready) >= len(state.futures))
        if due or state.stranded():
            gathered = now
            _record(state, ready, results, on_result)
            ready = []
            if state.stranded():
                for index, done in state.abandon():
                    results[index] = done
                    if on_result is not None:
                        on_result(done)
            state.fill()
        else:
            time.sleep(POLL_SECONDS)
        state.refresh()
