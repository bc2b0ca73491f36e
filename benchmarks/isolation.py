"""Isolation benchmark: per-call cost of the isolated runner against running in-process.

For a numpy function and a torch function on a ``(2, 256, 256)`` float32 stack (and the numpy
function on a ``(16, 1024, 1024)`` stack, to show the cost of moving data through the pipes):

- **in-process**: the function executed in this interpreter (the ``user`` level), median of
  repeated calls after a warm-up call;
- **warm worker**: one :class:`~openhcs_plugins.execution.IsolatedRunner` for the batch, median
  per call after the first;
- **cold worker**: :func:`~openhcs_plugins.execution.run_isolated` per call (a new worker each
  time: process start, limits, namespaces, imports, the call, the kill), median;
- the cold start split into its parts: a worker that only reports its protections (no numpy),
  and loading the code (imports) in a fresh worker;
- cold starts with namespaces switched off, to show what the namespaces cost.

- **isolated by default** (issue 13): a folder of untrusted numpy files called through
  ``registry.call`` as a user's code calls them, against the same folder run in process
  (``trust.untrusted = user``), in the same run: per call, the first call of the first file (the
  cold start), the first call of each further file (loaded into the shared worker, against a
  worker per file as before the pool), and the demo's wall time with the tree before issue 13
  (``--before-python``) and this one.

Every isolated result is checked against the in-process result. The baseline is measured in
the same run. Run: ``python benchmarks/isolation.py`` (about a minute on 2 cores); writes
``docs/performance-isolation.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from openhcs_plugins.execution import (  # noqa: E402
    IsolatedRunner,
    IsolationLimits,
    probe_protections,
    run_isolated,
)
from openhcs_plugins.execution.dispatch import exec_candidate  # noqa: E402
from openhcs_plugins.execution.process import WorkerProcess  # noqa: E402
from openhcs_plugins.sources.candidate import Candidate, SourceKind  # noqa: E402

NUMPY_CODE = '''\
import numpy as np
from openhcs_plugins.memory import numpy


@numpy
def normalize(image, low: float = 1.0, high: float = 99.0):
    """Percentile normalisation per channel."""
    lo = np.percentile(image, low, axis=(1, 2), keepdims=True)
    hi = np.percentile(image, high, axis=(1, 2), keepdims=True)
    return np.clip((image - lo) / np.maximum(hi - lo, 1e-6), 0, 1).astype(np.float32)
'''

TORCH_CODE = '''\
import torch as th
from openhcs_plugins.memory import torch


@torch(output_type="numpy")
def smooth(image, size: int = 3):
    """Box filter per channel (torch avg_pool2d)."""
    x = image[:, None]
    out = th.nn.functional.avg_pool2d(x, size, stride=1, padding=size // 2)
    return out[:, 0]
'''


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def in_process(code: str, name: str, stack: np.ndarray, repeat: int) -> tuple[float, object]:
    candidate = Candidate.from_code(code, source=SourceKind.EDITOR)
    func = getattr(exec_candidate(candidate), name)
    expected = func(stack)
    return median_ms(lambda: func(stack), repeat), expected


def check(expected: object, got: object) -> None:
    assert type(got) is np.ndarray, type(got)
    np.testing.assert_allclose(np.asarray(expected), got, rtol=1e-5, atol=1e-6)


def measure(
    label: str,
    code: str,
    name: str,
    stack: np.ndarray,
    limits: IsolationLimits,
    *,
    repeat: int,
    cold_repeat: int,
) -> dict[str, Any]:
    local_ms, expected = in_process(code, name, stack, repeat)
    with IsolatedRunner(code, name, limits=limits) as runner:
        check(expected, runner.call(stack))
        warm_ms = median_ms(lambda: runner.call(stack), repeat)
        check(expected, runner.call(stack))
        assert runner.workers_started == 1
    cold = []
    for _ in range(cold_repeat):
        start = time.perf_counter()
        got = run_isolated(code, name, stack, limits=limits)
        cold.append(time.perf_counter() - start)
        check(expected, got)
    no_ns = []
    for _ in range(max(1, cold_repeat // 2)):
        start = time.perf_counter()
        run_isolated(code, name, stack, limits=replace(limits, namespaces=False))
        no_ns.append(time.perf_counter() - start)
    return {
        "label": label,
        "shape": stack.shape,
        "mb": stack.nbytes / 2**20,
        "in_process_ms": local_ms,
        "warm_ms": warm_ms,
        "warm_overhead_ms": warm_ms - local_ms,
        "cold_ms": statistics.median(cold) * 1000,
        "cold_no_namespaces_ms": statistics.median(no_ns) * 1000,
    }


def start_parts(limits: IsolationLimits, repeat: int) -> dict[str, float]:
    """A worker that reports its protections (no numpy), and one that loads numpy code."""

    def bare() -> None:
        worker = WorkerProcess(limits, function="", filename="<bench>")
        try:
            worker.exchange({"op": "report"}, what="the probe")
        finally:
            worker.kill()

    def bare_no_ns() -> None:
        worker = WorkerProcess(replace(limits, namespaces=False), function="", filename="<bench>")
        try:
            worker.exchange({"op": "report"}, what="the probe")
        finally:
            worker.kill()

    def load() -> None:
        with IsolatedRunner(NUMPY_CODE, "normalize", limits=limits) as runner:
            runner.start()

    return {
        "bare_ms": median_ms(bare, repeat),
        "bare_no_namespaces_ms": median_ms(bare_no_ns, repeat),
        "load_numpy_ms": median_ms(load, repeat),
    }


def write(results: list[dict[str, Any]], parts: dict[str, float], path: Path) -> str:
    import numpy
    import torch

    report = probe_protections()
    active = ", ".join(report.namespaces) or "none"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Performance: isolated runner",
        "",
        "Per-call cost of running a function in an isolated worker (`strict` level, "
        "`run --isolated`) against running it in-process (`user` level). Produced by "
        "`python benchmarks/isolation.py`; the in-process baseline is measured in the same run. "
        "Times are medians in milliseconds.",
        "",
        f"Machine: {os.cpu_count()} CPUs, Linux {platform.release()}, Python "
        f"{platform.python_version()}, numpy {numpy.__version__}, torch {torch.__version__}; "
        f"load average {load:.1f} when the run started (other jobs shared the machine). "
        f"Worker protections: namespaces {active}; rlimits "
        f"{', '.join(sorted(report.rlimits))}; read-only filesystem "
        f"{'yes' if report.filesystem_protected else 'no'}.",
        "",
        "| function | stack | in-process | warm worker | warm overhead | cold worker | "
        "cold, no namespaces | cold / in-process |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        shape = "x".join(str(n) for n in r["shape"])
        lines.append(
            f"| {r['label']} | {shape} ({r['mb']:.1f} MiB) | {r['in_process_ms']:.2f} | "
            f"{r['warm_ms']:.2f} | {r['warm_overhead_ms']:+.2f} | {r['cold_ms']:.0f} | "
            f"{r['cold_no_namespaces_ms']:.0f} | "
            f"{r['cold_ms'] / max(r['in_process_ms'], 1e-9):.0f}x |"
        )
    numpy_small, torch_small, numpy_large = results
    moved = 2 * numpy_large["mb"]
    extra = numpy_large["warm_overhead_ms"] / 1000
    rate = f"about {moved / extra / 1024:.1f} GiB/s" if extra > 0 else "within the noise"
    lines += [
        "",
        "Cold start, split:",
        "",
        f"- a worker that only reports its protections (process start, rlimits, namespaces, "
        f"mounts, no numpy): {parts['bare_ms']:.0f} ms "
        f"({parts['bare_no_namespaces_ms']:.0f} ms without namespaces);",
        f"- start plus loading numpy code (numpy and openhcs_plugins imported in the worker): "
        f"{parts['load_numpy_ms']:.0f} ms.",
        "",
        "Reading: a warm worker adds "
        f"{numpy_small['warm_overhead_ms']:.1f} ms (numpy) and "
        f"{torch_small['warm_overhead_ms']:.1f} ms (torch) per call for a "
        "(2, 256, 256) float32 stack: the copies through the pipes (the stack in, the "
        "result out) and two context switches. For a 64 MiB stack the data moves at "
        f"{rate} (in and out). A cold worker costs a process start and the imports "
        f"({numpy_small['cold_ms']:.0f} ms with numpy, "
        f"{torch_small['cold_ms']:.0f} ms with torch; more when the files are not in "
        "the page cache), which is why `run --isolated` and strict functions keep one warm "
        "worker per batch (per candidate file) and replace it only after a failure. "
        "Namespaces and mounts cost a few milliseconds of the start.",
        "",
    ]
    text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    return text


DEFAULT_FILE = """from openhcs_plugins.memory import numpy
import numpy as np

OFFSET = {index}


@numpy
def step_{index}(image, low: float = 1.0, high: float = 99.0):
    lo, hi = np.percentile(image, [low, high])
    return np.clip((image - lo) / max(hi - lo, 1e-6), 0.0, 1.0) + OFFSET
"""


def isolated_by_default(
    stack: np.ndarray, files: int, repeat: int, before_python: str | None
) -> dict[str, Any]:
    """The default for untrusted folder files against in-process, measured in one run."""
    import subprocess
    import tempfile

    from openhcs_plugins.config import load_settings
    from openhcs_plugins.execution import pool
    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.registry import FunctionRegistry, RegistryAdapter

    out: dict[str, Any] = {"files": files}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "functions"
        folder.mkdir()
        for index in range(files):
            (folder / f"step_{index}.py").write_text(DEFAULT_FILE.format(index=index))

        def registry(untrusted: str) -> Any:
            adapter = RegistryAdapter(FunctionRegistry())
            settings = load_settings(trust__untrusted=untrusted, cache_dir=str(Path(tmp) / "c"))
            load_plugins(
                adapter=adapter, settings=settings, include_entry_points=False, folder=folder
            )
            return adapter.registry

        here = registry("user")
        pool.close_shared_workers()
        isolated = registry("strict")
        assert isolated.entry("openhcs:step_0").info.provenance.runs == "isolated"
        start = time.perf_counter()
        got = isolated.call("openhcs:step_0", stack)
        out["cold_ms"] = (time.perf_counter() - start) * 1000
        check(here.call("openhcs:step_0", stack), got)
        firsts = []
        for index in range(1, files):
            start = time.perf_counter()
            isolated.call(f"openhcs:step_{index}", stack)
            firsts.append((time.perf_counter() - start) * 1000)
        out["next_file_ms"] = statistics.median(firsts)
        out["in_process_ms"] = median_ms(lambda: here.call("openhcs:step_1", stack), repeat)
        out["isolated_ms"] = median_ms(lambda: isolated.call("openhcs:step_1", stack), repeat)
        out["shared_workers"] = len(pool._POOL)
        pool.close_shared_workers()
        # before the pool: a worker of its own per file, each paying its cold start
        per_file = []
        for index in range(min(files, 4)):
            start = time.perf_counter()
            with IsolatedRunner(DEFAULT_FILE.format(index=index), f"step_{index}") as runner:
                runner.call(stack)
            per_file.append((time.perf_counter() - start) * 1000)
        out["worker_per_file_ms"] = statistics.median(per_file)

    def demo(python: str) -> float:
        times = []
        for _ in range(3):
            with tempfile.TemporaryDirectory() as tmp:
                env = {
                    **os.environ,
                    "XDG_DATA_HOME": tmp,
                    "XDG_CACHE_HOME": tmp,
                    "XDG_CONFIG_HOME": tmp,
                }
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                start = time.perf_counter()
                subprocess.run(
                    [python, "-m", "openhcs_plugins.cli", "demo"],
                    cwd=tmp,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    out["demo_after_ms"] = demo(sys.executable)
    if before_python:
        out["demo_before_ms"] = demo(before_python)
    return out


def write_default(data: dict[str, Any]) -> str:
    over = data["isolated_ms"] - data["in_process_ms"]
    lines = [
        "",
        "## Isolated by default (issue 13)",
        "",
        f"{data['files']} untrusted numpy files in the functions folder, called through "
        "`registry.call` on a (2, 256, 256) float32 stack, against the same folder run in "
        "process (`trust.untrusted = user`) in the same run; medians in milliseconds.",
        "",
        "| | in process | isolated (default) | difference |",
        "|---|---:|---:|---:|",
        f"| per call, warm | {data['in_process_ms']:.2f} | {data['isolated_ms']:.2f} "
        f"| +{over:.2f} (target within 2 ms: {'met' if over <= 2 else 'missed'}) |",
        f"| first call of the first file (cold start) | | {data['cold_ms']:.0f} | |",
        f"| first call of each further file, shared worker | | {data['next_file_ms']:.1f} | "
        f"a worker per file (before the pool): {data['worker_per_file_ms']:.0f} |",
        "",
        f"Shared workers running for {data['files']} files: {data['shared_workers']}.",
    ]
    if "demo_before_ms" in data:
        lines.append(
            f"`openhcs-plugins demo`, whole process: {data['demo_before_ms']:.0f} ms before issue "
            f"13, {data['demo_after_ms']:.0f} ms after (its bundled functions are registered "
            "from the editor API, so they are trusted and run in process)."
        )
    else:
        lines.append(f"`openhcs-plugins demo`, whole process: {data['demo_after_ms']:.0f} ms.")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines += [f"Load average after this part: {load:.2f}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cold-repeat", type=int, default=5)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "performance-isolation.md")
    parser.add_argument("--files", type=int, default=10, help="untrusted files (default 10)")
    parser.add_argument(
        "--before-python", default=None, help="the interpreter of a venv of the tree before"
    )
    parser.add_argument("--only-default", action="store_true", help="only issue 13's part")
    args = parser.parse_args()
    limits = IsolationLimits.from_settings(wall_seconds=120.0)
    rng = np.random.default_rng(0)
    small = rng.random((2, 256, 256), dtype=np.float32)
    default = write_default(isolated_by_default(small, args.files, args.repeat, args.before_python))
    if args.only_default:
        print(default)
        return
    large = rng.random((16, 1024, 1024), dtype=np.float32)
    results = [
        measure(
            "numpy (percentile normalise)",
            NUMPY_CODE,
            "normalize",
            small,
            limits,
            repeat=args.repeat,
            cold_repeat=args.cold_repeat,
        ),
        measure(
            "torch (avg_pool2d, to numpy)",
            TORCH_CODE,
            "smooth",
            small,
            limits,
            repeat=args.repeat,
            cold_repeat=max(2, args.cold_repeat // 2),
        ),
        measure(
            "numpy (percentile normalise)",
            NUMPY_CODE,
            "normalize",
            large,
            limits,
            repeat=max(5, args.repeat // 5),
            cold_repeat=2,
        ),
    ]
    parts = start_parts(limits, max(5, args.cold_repeat))
    text = write(results, parts, args.output)
    args.output.write_text(text + "\n" + default, encoding="utf-8")
    print(text + "\n" + default)


if __name__ == "__main__":
    main()
