"""Benchmark: memory conversion between the CPU frameworks, and the decorators' overhead.

Every conversion path is timed on float32 stacks of 1 MiB, 64 MiB and 256 MiB against a numpy
copy (``arr.copy()``, a memcpy into a fresh buffer) of the same array in the same run; results are
ratios to that copy. Targets: zero-copy paths flat in size and under 1% of a memcpy at 64 MiB;
copy paths within 1.5x of a memcpy. The decorators' overhead on a no-op function is timed against
the undecorated call (target: under 1 microsecond).

    python benchmarks/conversion.py                    # writes docs/performance-conversion.md
    python benchmarks/conversion.py --output -         # print only
    python benchmarks/conversion.py --sizes 1 64       # fewer sizes (MiB)

Runs in about two minutes on 2 cores (fewer repeats at 256 MiB). Frameworks that are not usable
here are left out and listed.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
import timeit
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from openhcs_plugins import memory as mem  # noqa: E402
from openhcs_plugins.memory.buffers import empty_aligned  # noqa: E402
from openhcs_plugins.memory.convert import convert_memory  # noqa: E402
from openhcs_plugins.memory.status import check_framework  # noqa: E402

FRAMEWORKS = ("numpy", "torch", "jax", "tensorflow", "pyclesperanto")
MIB = 1 << 20
#: Repeats per size (MiB): the copies at 256 MiB take ~50-100 ms each.
REPEATS = {1: 41, 64: 11, 256: 5}
ZERO_COPY_LIMIT = 0.01
COPY_LIMIT = 1.5


def shape_for(mib: int) -> tuple[int, int, int]:
    """A (C, Y, X) float32 stack of ``mib`` MiB: 2048x2048 planes from 64 MiB up."""
    if mib >= 64:
        return (mib // 16, 2048, 2048)
    side = int((mib * MIB // 16) ** 0.5)
    return (4, side, side)


def make(framework: str, array: np.ndarray) -> Any:
    """``array``'s values in ``framework``, made with its own API and ready (no pending work)."""
    if framework == "numpy":
        return array.copy()  # numpy's own allocation: 16-byte aligned for large arrays
    if framework == "numpy-aligned":
        out = empty_aligned(array.shape, array.dtype)
        out[...] = array
        return out
    if framework == "torch":
        import torch

        return torch.tensor(array)  # torch's own (64-byte aligned) allocation
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array).block_until_ready()
    if framework == "tensorflow":
        import tensorflow as tf

        return tf.constant(array)
    if framework == "pyclesperanto":
        import pyclesperanto as cle

        return cle.push(array)
    raise ValueError(framework)


@dataclass
class Path_:
    source: str
    target: str
    writable: bool = True
    note: str = ""

    @property
    def label(self) -> str:
        text = f"{self.source} -> {self.target}"
        return text if self.writable else f"{text} (writable=False)"


def paths(usable: set[str]) -> list[Path_]:
    out = [Path_(a, b) for a in FRAMEWORKS for b in FRAMEWORKS if a != b]
    out += [
        Path_("numpy-aligned", "jax", note="source from empty_aligned"),
        Path_("numpy-aligned", "tensorflow", note="source from empty_aligned"),
        Path_("jax", "numpy", writable=False, note="read-only view"),
        Path_("tensorflow", "numpy", writable=False, note="read-only view"),
        Path_("jax", "torch", writable=False, note="shares immutable memory"),
        Path_("tensorflow", "torch", writable=False, note="shares immutable memory"),
    ]
    return [p for p in out if {p.source.removesuffix("-aligned"), p.target} <= usable]


def time_calls(call: Callable[[], Any], repeats: int) -> float:
    """Best seconds of ``call()`` over ``repeats``, each result dropped before the next call."""
    return min(_samples(call, repeats))


def _samples(call: Callable[[], Any], repeats: int) -> list[float]:
    result = call()  # warm-up (imports, first touch)
    del result
    times = []
    gc.disable()  # a collection with tensorflow loaded takes ~0.4 s: none inside the timings
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - start)
            del result
    finally:
        gc.enable()
    return times


def time_against(call: Callable[[], Any], baseline: Callable[[], Any], repeats: int) -> float:
    """Best time of ``call`` over best time of ``baseline``, the two timed alternately.

    Memory bandwidth on a shared virtual machine drifts (a 64 MiB copy takes 6 to 15 ms here
    from one second to the next, more while other jobs run); alternating the two and comparing
    their best times keeps the ratio about the work done, not about the neighbours.
    """
    ours: list[float] = []
    base: list[float] = []
    for _ in range(repeats):
        base += _samples(baseline, 1)
        ours += _samples(call, 1)
    return min(ours) / min(base)


def time_fast(call: Callable[[], Any]) -> float:
    """Seconds per call of a fast call, timed in batches (zero-copy paths)."""
    call()
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number


def measure_sizes(sizes: list[int], usable: set[str]) -> dict[int, dict[str, tuple[float, float]]]:
    """size -> label -> (seconds, ratio to a memcpy of the same array)."""
    results: dict[int, dict[str, tuple[float, float]]] = {}
    for mib in sizes:
        base = np.random.default_rng(0).random(shape_for(mib), dtype=np.float32)
        repeats = REPEATS.get(mib, 5)
        memcpy = time_calls(base.copy, repeats)
        row: dict[str, tuple[float, float]] = {"memcpy (numpy copy)": (memcpy, 1.0)}
        for path in paths(usable):
            source = make(path.source, base)
            call = lambda s=source, p=path: convert_memory(s, p.target, writable=p.writable)  # noqa: E731
            seconds = time_calls(call, 3)
            if seconds < 0.01 * memcpy:  # zero-copy: time many calls for a stable number
                seconds = time_fast(call)
                row[path.label] = (seconds, seconds / memcpy)
            else:
                ratio = time_against(call, base.copy, repeats)
                row[path.label] = (ratio * memcpy, ratio)
            del source
        results[mib] = row
        print(f"{mib} MiB done (memcpy {memcpy * 1e3:.2f} ms)", file=sys.stderr)
    return results


def measure_references(usable: set[str]) -> list[tuple[str, float]]:
    """The frameworks' own one-line conversions at 64 MiB, for comparison (ratio to memcpy)."""
    base = np.random.default_rng(0).random(shape_for(64), dtype=np.float32)
    calls: list[tuple[str, Callable[[], Any]]] = []
    if "jax" in usable:
        import jax.numpy as jnp

        calls.append(("jnp.asarray(numpy)", lambda: jnp.asarray(base).block_until_ready()))
    if "tensorflow" in usable:
        import tensorflow as tf

        tensor = tf.constant(base)
        calls.append(("tf.convert_to_tensor(numpy)", lambda: tf.convert_to_tensor(base)))
        calls.append(("tf_tensor.numpy()", tensor.numpy))
    return [(name, time_against(call, base.copy, REPEATS[64])) for name, call in calls]


HUGEPAGE_PROBE = """
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from openhcs_plugins.memory.convert import convert_memory
x = np.random.default_rng(0).random((4, 2048, 2048), dtype=np.float32)
convert_memory(x, "pyclesperanto")
ours, base = [], []
for _ in range(11):
    start = time.perf_counter(); r = x.copy(); base.append(time.perf_counter() - start); del r
    start = time.perf_counter(); r = convert_memory(x, "pyclesperanto")
    ours.append(time.perf_counter() - start); del r
print(min(ours) / min(base))
"""


def measure_pocl_hugepages() -> list[tuple[str, float]]:
    """numpy -> pyclesperanto at 64 MiB in fresh processes, with and without glibc's
    transparent-huge-page tunable (pocl allocates its buffers with malloc, in 4 KiB pages)."""
    import subprocess

    out = []
    for name, extra in (
        ("default", {}),
        ("GLIBC_TUNABLES=glibc.malloc.hugetlb=1", {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}),
    ):
        done = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", HUGEPAGE_PROBE, str(REPO)],
            env={**os.environ, **extra},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode == 0:
            out.append((name, float(done.stdout.split()[-1])))
    return out


def _per_call_ns(func: Callable[..., Any], arg: Any) -> float:
    """Best of 7 x 100,000 calls, in nanoseconds per call."""
    return min(timeit.repeat(lambda: func(arg), number=100_000, repeat=7)) * 1e4


def measure_decorators(usable: set[str]) -> list[tuple[str, float, float, float]]:
    """(case, plain ns, decorated ns, overhead ns) per call of a no-op function."""

    def noop(image):
        return image

    def noop_meta(image):
        return image, None

    image = np.zeros((2, 8, 8), np.float32)
    cases: list[tuple[str, Callable[..., Any], Callable[..., Any], Any]] = [
        ("@numpy, numpy in (types match)", noop, mem.numpy(noop), image),
        ("@numpy, (image, metadata) return", noop_meta, mem.numpy(noop_meta), image),
    ]
    if "torch" in usable:
        import torch

        tensor = torch.zeros((2, 8, 8))
        cases.append(("@torch, torch in (types match)", noop, mem.torch(noop), tensor))
        cases.append(("@torch, numpy in and out (2 conversions)", noop, mem.torch(noop), image))
    out = []
    for name, plain, decorated, arg in cases:
        plain_ns = _per_call_ns(plain, arg)
        deco_ns = _per_call_ns(decorated, arg)
        out.append((name, plain_ns, deco_ns, deco_ns - plain_ns))
    return out


#: The paths docs/memory.md promises zero-copy (with the default writable=True unless marked).
ZERO_COPY = {
    "numpy -> torch",
    "torch -> numpy",
    "torch -> jax",
    "torch -> tensorflow",
    "jax -> tensorflow",
    "tensorflow -> jax",
    "numpy-aligned -> jax",
    "numpy-aligned -> tensorflow",
    "jax -> numpy (writable=False)",
    "tensorflow -> numpy (writable=False)",
    "jax -> torch (writable=False)",
    "tensorflow -> torch (writable=False)",
}


def verdict(
    label: str, results: dict[int, dict[str, tuple[float, float]]], sizes: list[int]
) -> str:
    """Met or missed, against the target for the path's promised kind."""
    judged = [mib for mib in sizes if mib >= 64] or sizes
    if label in ZERO_COPY:
        ratio = results[judged[0]][label][1]
        times = [results[mib][label][0] for mib in sizes]
        flat = max(times) < 5 * min(times) + 20e-6
        ok = ratio < ZERO_COPY_LIMIT and flat
        return f"zero-copy: {'met' if ok else 'MISSED'}"
    worst = max(results[mib][label][1] for mib in judged)
    return f"copy: {'met' if worst <= COPY_LIMIT else f'over {COPY_LIMIT}x'}"


def markdown(
    sizes: list[int],
    results: dict[int, dict[str, tuple[float, float]]],
    references: list[tuple[str, float]],
    decorators: list[tuple[str, float, float, float]],
    hugepages: list[tuple[str, float]],
    versions: dict[str, str],
    left_out: dict[str, str],
    load: str,
) -> str:
    lines = [
        "## Memory conversion (`benchmarks/conversion.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} "
        f"({os.cpu_count()} cores, {_cpu_name()}, load average {load}), "
        f"Python {platform.python_version()}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ". Reproduce: `python benchmarks/conversion.py`.",
        "",
        "Each path converts a float32 `(C, Y, X)` stack with `convert_memory(x, target)`. "
        "**Ratios are to a numpy copy (`x.copy()`) of the same array, timed alternately with the "
        "path in the same run** (best of 41/11/5 at 1/64/256 MiB: memory bandwidth on this "
        "shared VM drifts by 2x and more while other jobs run); times of copy paths are that "
        "ratio times the memcpy time on the first line. "
        "Targets: zero-copy paths flat in size and under 1% of a memcpy at 64 MiB; copy paths "
        "within 1.5x of a memcpy.",
        "",
        "| path | " + " | ".join(f"{mib} MiB" for mib in sizes) + " | verdict |",
        "|---|" + "---:|" * len(sizes) + "---|",
    ]
    labels = list(results[sizes[0]])
    for label in labels:
        cells = []
        for mib in sizes:
            seconds, ratio = results[mib][label]
            cells.append(f"{_fmt_time(seconds)} ({ratio:.3g}x)")
        kind = "baseline" if label.startswith("memcpy") else verdict(label, results, sizes)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {kind} |")
    if references:
        lines += [
            "",
            "The frameworks' own conversions at 64 MiB, for comparison (ratio to memcpy): "
            + "; ".join(f"`{name}` {ratio:.2f}x" for name, ratio in references)
            + ".",
        ]
    if hugepages:
        lines += [
            "",
            "numpy -> pyclesperanto at 64 MiB in a fresh process (ratio to memcpy): "
            + "; ".join(f"{name}: {ratio:.2f}x" for name, ratio in hugepages)
            + ". The push itself is one copy; the rest is pocl faulting in its freshly "
            "malloc'ed buffer 4 KiB page by page, which glibc's huge-page tunable removes.",
        ]
    lines += [
        "",
        "Decorator overhead on a no-op function (best of 7 x 100,000 calls; target under 1 µs "
        "when the types match):",
        "",
        "| case | undecorated | decorated | overhead |",
        "|---|---:|---:|---:|",
    ]
    for name, plain_ns, deco_ns, over_ns in decorators:
        lines.append(f"| {name} | {plain_ns:.0f} ns | {deco_ns:.0f} ns | {over_ns:.0f} ns |")
    if left_out:
        lines += ["", "Left out here: " + "; ".join(f"{k} ({v})" for k, v in left_out.items())]
    return "\n".join(lines) + "\n"


def _fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 64, 256], help="MiB")
    parser.add_argument(
        "--output",
        default=str(REPO / "docs" / "performance-conversion.md"),
        help="markdown file to write, or - for stdout only",
    )
    args = parser.parse_args(argv)
    usable: set[str] = set()
    left_out: dict[str, str] = {}
    versions: dict[str, str] = {}
    for name in FRAMEWORKS:
        status = check_framework(name, kernels=False)
        if status.usable:
            usable.add(name)
            versions[name] = __import__(name).__version__
        else:
            left_out[name] = status.detail
    cupy = check_framework("cupy")
    if not cupy.usable:
        left_out["cupy"] = cupy.detail
    warnings.simplefilter("ignore")
    before = os.getloadavg()[0]
    results = measure_sizes(sorted(args.sizes), usable)
    references = measure_references(usable) if 64 in args.sizes else []
    decorators = measure_decorators(usable)
    hugepages = measure_pocl_hugepages() if "pyclesperanto" in usable else []
    load = f"{before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    text = markdown(
        sorted(args.sizes), results, references, decorators, hugepages, versions, left_out, load
    )
    print(text)
    if args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
