"""Benchmark: ``run`` on Dask against the serial run and a bare ``client.map``, in one run.

    python benchmarks/distributed.py                 # -> docs/performance-distributed.md
    python benchmarks/distributed.py --count 40 --rounds 1 --output -   # a quick look

Inputs: ``--count`` TIFFs of ``(3, 512, 512)`` float32 in a temporary folder. The function is a
trusted folder function (shipped to the workers as validated text), a Gaussian blur with
``scipy.ndimage.gaussian_filter``: ``sigma=2`` (light: reading and writing 3 MB weigh as much as
the blur) and ``sigma=12`` (heavy: compute outweighs I/O).

Each round runs these (every other round in reverse order), so the machine's load hits all alike:

- **serial**: :func:`openhcs_plugins.batch.run_batch` in this process (what ``run`` does);
- **ours, N workers**: the same with ``client=`` on a warm ``LocalCluster`` of N single-thread
  worker processes (``run --workers N``); it includes the environment check of every worker;
- **bare client.map, N workers**: the floor: ``client.map`` of a function that reads the TIFF
  with tifffile, blurs and writes it with tifffile, on the same cluster, nothing else.

Reports medians: wall time, speed-up against serial, and the cost per task in worker-seconds
(``wall * workers / count``) less the blur alone (measured here, in process), which is the
per-task overhead; how ours grows with the input count (``--counts``); and the load average.
The goals (issue 16): our 2-worker speed-up >= 90% of the bare one's, our per-task overhead
within 1.2x of the bare one's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This file's folder would shadow the `distributed` package with this very file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "benchmarks"]

BLUR = '''from openhcs_plugins.decorators import numpy
from scipy import ndimage


@numpy
def bench_blur(image, sigma: float = 2.0):
    """Gaussian blur of each plane."""
    return ndimage.gaussian_filter(image, sigma=(0, sigma, sigma))
'''

SHAPE = (3, 512, 512)


def bare_blur(path: str, target: str, sigma: float) -> str:
    """The floor: read, blur, write; nothing else."""
    import tifffile
    from scipy import ndimage

    image = tifffile.imread(path)
    tifffile.imwrite(target, ndimage.gaussian_filter(image, sigma=(0, sigma, sigma)))
    return target


def _inputs(folder: Path, count: int) -> list[Path]:
    import numpy as np
    import tifffile

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.random(SHAPE, dtype=np.float32)
    paths = []
    for index in range(count):
        path = folder / f"plane{index:04d}.tif"
        tifffile.imwrite(path, base + np.float32(index))
        paths.append(path)
    return paths


def _blur_alone(path: Path, sigma: float, repeats: int = 7) -> float:
    """Median seconds of the blur alone on one in-memory stack."""
    import tifffile
    from scipy import ndimage

    image = tifffile.imread(path)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ndimage.gaussian_filter(image, sigma=(0, sigma, sigma))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _ours(files: list[Path], out: Path, sigma: float, client: Any = None) -> float:
    from openhcs_plugins.batch import run_batch

    _fresh(out)
    start = time.perf_counter()
    results = run_batch("openhcs:bench_blur", files, out, {"sigma": sigma}, client=client)
    elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} failed, first: {failed[0].error}")
    return elapsed


def _bare(files: list[Path], out: Path, sigma: float, client: Any) -> float:
    _fresh(out)
    start = time.perf_counter()
    futures = client.map(
        bare_blur,
        [str(p) for p in files],
        [str(out / p.name) for p in files],
        sigma=sigma,
        pure=False,
    )
    client.gather(futures)
    return time.perf_counter() - start


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--counts", default="50,100,200", help="input counts for the growth table")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sigmas", default="2,12")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance-distributed.md"))
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="openhcs-plugins-bench-dask-"))
    try:
        _run(args, work)
    finally:  # ~3 GB of images at the default count
        shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path) -> None:
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(work / var.lower())
    functions = work / "functions"
    functions.mkdir()
    (functions / "bench_blur.py").write_text(BLUR, encoding="utf-8")

    import importlib.util

    spec = importlib.util.spec_from_file_location("_report", ROOT / "benchmarks" / "_report.py")
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)

    from openhcs_plugins.config import load_settings
    from openhcs_plugins.config.trust import TrustStore
    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.scaleout import local_client

    # The user's own file (`openhcs-plugins trust`): it runs in the worker's process, as the
    # bare floor does; an untrusted file would run in an isolated process on each worker.
    TrustStore().trust(BLUR, functions / "bench_blur.py")
    load_plugins(settings=load_settings(functions_dir=str(functions)))
    files = _inputs(work / "in", max(args.count, *map(int, args.counts.split(","))))
    main_files = files[: args.count]
    sigmas = [float(s) for s in args.sigmas.split(",")]
    loads: list[float] = [os.getloadavg()[0]]
    lines = [
        "# Performance: run on Dask (issue 16)",
        "",
        f"Written by `python benchmarks/distributed.py` on {time.strftime('%Y-%m-%d')}: "
        f"{args.count} inputs of {SHAPE} float32 (3 MB each), medians of {args.rounds} "
        f"alternating rounds; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}.",
        "Workers are single-thread processes of a warm `LocalCluster` on 127.0.0.1; ours "
        "includes the check of every worker's environment and ships the folder function.",
        "",
    ]
    started = {}
    clients = {}
    with contextlib.ExitStack() as stack:
        for n in (1, 2):
            t0 = time.perf_counter()
            clients[n] = stack.enter_context(local_client(n))
            started[n] = time.perf_counter() - t0
        summary: dict[float, dict[str, float]] = {}
        for sigma in sigmas:
            compute = _blur_alone(main_files[0], sigma)
            times: dict[str, list[float]] = {}
            runs = [
                ("serial", _ours, "o-serial", None),
                ("ours, 1 worker", _ours, "o1", clients[1]),
                ("bare client.map, 1 worker", _bare, "b1", clients[1]),
                ("ours, 2 workers", _ours, "o2", clients[2]),
                ("bare client.map, 2 workers", _bare, "b2", clients[2]),
            ]
            for round_index in range(args.rounds):
                # every other round in reverse order: no run always follows the same one
                for name, run, folder, client in runs[:: -1 if round_index % 2 else 1]:
                    times.setdefault(name, []).append(run(main_files, work / folder, sigma, client))
                    loads.append(os.getloadavg()[0])
            order = [name for name, *_ in runs]
            med = {name: statistics.median(times[name]) for name in order}
            serial = med["serial"]
            lines += [
                f"## sigma = {sigma:g} (blur alone: {compute * 1000:.1f} ms per input)",
                "",
                _row(["run", "wall", "speed-up vs serial", "cost per task", "overhead per task"]),
                _row(["---", "---:", "---:", "---:", "---:"]),
            ]
            for name, wall in med.items():
                workers = 2 if "2 workers" in name else 1
                cost = wall * workers / args.count
                lines.append(
                    _row(
                        [
                            name,
                            f"{wall:.2f} s",
                            f"{serial / wall:.2f}x",
                            f"{cost * 1000:.1f} ms",
                            f"{(cost - compute) * 1000:.1f} ms",
                        ]
                    )
                )
            ours_up = serial / med["ours, 2 workers"]
            bare_up = serial / med["bare client.map, 2 workers"]
            ours_over = med["ours, 2 workers"] * 2 / args.count - compute
            bare_over = med["bare client.map, 2 workers"] * 2 / args.count - compute
            summary[sigma] = {
                "ours_up": ours_up,
                "bare_up": bare_up,
                "share": ours_up / bare_up,
                "over_ratio": ours_over / bare_over if bare_over > 0 else float("nan"),
            }
            lines += [
                "",
                f"2 workers: our speed-up {ours_up:.2f}x, bare {bare_up:.2f}x: "
                f"**{ours_up / bare_up:.0%} of the bare speed-up** (goal >= 90%); "
                f"overhead per task {ours_over * 1000:.1f} ms against {bare_over * 1000:.1f} ms: "
                f"**{summary[sigma]['over_ratio']:.2f}x** (goal <= 1.2x).",
                "",
            ]
        # How the cost per task grows with the input count (2 workers, light blur).
        sigma = sigmas[0]
        lines += [
            f"## Cost per task by input count (2 workers, sigma = {sigma:g})",
            "",
            _row(["inputs", "ours: wall", "ours: per task", "bare: wall", "bare: per task"]),
            _row(["---:", "---:", "---:", "---:", "---:"]),
        ]
        for count in (int(c) for c in args.counts.split(",")):
            subset = files[:count]
            ours = statistics.median(
                _ours(subset, work / "g-ours", sigma, clients[2]) for _ in range(args.rounds)
            )
            bare = statistics.median(
                _bare(subset, work / "g-bare", sigma, clients[2]) for _ in range(args.rounds)
            )
            loads.append(os.getloadavg()[0])
            lines.append(
                _row(
                    [
                        str(count),
                        f"{ours:.2f} s",
                        f"{ours * 1000 / count:.1f} ms",
                        f"{bare:.2f} s",
                        f"{bare * 1000 / count:.1f} ms",
                    ]
                )
            )
    lines += [
        "",
        f"Cluster start-up (not in the times above): 1 worker {started[1]:.1f} s, "
        f"2 workers {started[2]:.1f} s.",
        f"Load average (1 min) during the run: {min(loads):.2f} to {max(loads):.2f} "
        f"(median {statistics.median(loads):.2f}).",
        "",
    ]
    report.emit("\n".join(lines), args.output)


if __name__ == "__main__":
    main()
