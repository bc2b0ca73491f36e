"""Discovery benchmark: lazy listing vs. eager import, with 200 plugin packages + 1,000 files.

Builds, in a work directory, one virtual environment per size (layered on this one, so
numpy/scipy/torch come from this interpreter) whose site directory holds N installed-looking
plugin distributions (``*.dist-info`` with METADATA, RECORD, entry_points.txt, INSTALLER, and the
module), and a functions folder of single-file functions. Every measurement runs in a fresh
interpreter of that venv:

- ``load_plugins()`` cold (no discovery cache) and warm (cache present), in-process time;
- the whole ``openhcs-plugins list --json`` process, cold and warm (wall clock);
- the eager baseline in the same run: import every entry point's module and execute every folder
  file (what a plugin system without lazy listing does), in-process time;
- the framework modules (torch, tensorflow, jax, cupy, pyclesperanto) each run imported.

Plugin modules are realistic: ``numpy`` + ``scipy.ndimage`` at the top and five decorated
functions; one package in ten is a torch plugin (``import torch`` at the top).

Targets (issue 3): warm listing under 150 ms for 200 packages + 1,000 files and at least 10x
faster than eager; cold listing linear in the number of packages; zero framework imports.

Run: ``python benchmarks/discovery.py`` (about two minutes on 2 cores). Writes
``docs/performance-discovery.md`` and ``docs/discovery.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
FRAMEWORKS = ("torch", "tensorflow", "jax", "jaxlib", "cupy", "pyclesperanto")
FUNCTIONS_PER_PACKAGE = 5
TORCH_EVERY = 10

PLUGIN_MODULE = '''\
"""Filters of benchmark lab {i}."""
import numpy as np
from scipy import ndimage

from openhcs_plugins.decorators import numpy


'''
TORCH_MODULE = '''\
"""Torch filters of benchmark lab {i}."""
import torch as _torch

from openhcs_plugins.decorators import torch


'''
FUNCTION = '''
@{decorator}
def {name}(image, sigma: float = {sigma}, mode: str = "reflect", iterations: int = 1):
    """Filter number {j} of lab {i}.

    Smooths each plane; ``sigma`` in pixels.
    """
    out = image
    for _ in range(iterations):
        out = {body}
    return out

'''
FOLDER_FILE = '''\
import numpy as np
from scipy import ndimage

from openhcs_plugins.decorators import numpy


@numpy
def user_filter_{k}(image, size: int = {size}, threshold: float = 0.5):
    """User filter {k}: median then threshold."""
    smoothed = ndimage.median_filter(image, size=(1, size, size))
    return np.where(smoothed > threshold, smoothed, 0)
'''

DRIVER = """
import json, sys, time
t0 = time.perf_counter()
c0 = time.process_time()
mode, folder = sys.argv[1], sys.argv[2]
FRAMEWORKS = {frameworks!r}
out = {{}}
if mode == "load":
    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.registry import FunctionRegistry
    t1 = time.perf_counter()
    c1 = time.process_time()
    registry = FunctionRegistry()
    report = load_plugins(registry=registry, folder=folder)
    t2 = time.perf_counter()
    c2 = time.process_time()
    out.update(
        registered=len(report.registered), problems=len(report.problems), cache=report.cache,
        import_s=t1 - t0, work_s=t2 - t1, cpu_s=c2 - c1,
        first_problem=str(report.problems[0]) if report.problems else "",
    )
else:
    import importlib_metadata
    from pathlib import Path
    from openhcs_plugins.memory import is_memory_decorated
    t1 = time.perf_counter()
    c1 = time.process_time()
    skip_torch = mode == "eager-numpy"
    count = 0
    for ep in importlib_metadata.entry_points(group="openhcs.functions"):
        if skip_torch and ep.name.startswith("benchtorch"):
            continue
        module = ep.load()
        count += sum(1 for v in vars(module).values() if is_memory_decorated(v))
    for path in sorted(Path(folder).glob("*.py")):
        namespace = {{"__name__": "custom_" + path.stem}}
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
        count += sum(1 for v in namespace.values() if is_memory_decorated(v))
    t2 = time.perf_counter()
    out.update(registered=count, import_s=t1 - t0, work_s=t2 - t1, cpu_s=time.process_time() - c1)
tops = {{m.split(".")[0] for m in sys.modules}}
out["frameworks"] = sorted(tops & set(FRAMEWORKS))
out["plugin_modules"] = sum(1 for m in sys.modules if m.startswith(("benchlab", "benchtorch")))
print(json.dumps(out))
"""


def write_site(site: Path, packages: int) -> None:
    """``packages`` installed-looking plugin distributions in ``site``."""
    site.mkdir(parents=True)
    for i in range(packages):
        is_torch = i % TORCH_EVERY == TORCH_EVERY - 1
        name = f"benchtorch{i:03d}" if is_torch else f"benchlab{i:03d}"
        dist = f"{name}-1.{i % 7}.0"
        module_dir = site / name
        module_dir.mkdir()
        (module_dir / "__init__.py").write_text("")
        text = (TORCH_MODULE if is_torch else PLUGIN_MODULE).format(i=i)
        for j in range(FUNCTIONS_PER_PACKAGE):
            body = (
                "out * 0.5" if is_torch else "ndimage.gaussian_filter(out, sigma=(0, sigma, sigma))"
            )
            text += FUNCTION.format(
                decorator="torch" if is_torch else "numpy",
                name=f"filter_{j}",
                sigma=1.0 + j,
                j=j,
                i=i,
                body=body,
            )
        (module_dir / "filters.py").write_text(text)
        info = site / f"{dist}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.{i % 7}.0\nSummary: bench\n"
        )
        (info / "entry_points.txt").write_text(f"[openhcs.functions]\n{name} = {name}.filters\n")
        (info / "INSTALLER").write_text("pip\n")
        (info / "RECORD").write_text(
            f"{name}/__init__.py,,\n{name}/filters.py,,\n{dist}.dist-info/METADATA,,\n"
            f"{dist}.dist-info/entry_points.txt,,\n{dist}.dist-info/RECORD,,\n"
        )


def write_folder(folder: Path, files: int) -> None:
    folder.mkdir(parents=True)
    for k in range(files):
        (folder / f"user_filter_{k:04d}.py").write_text(FOLDER_FILE.format(k=k, size=3 + k % 3))


def make_venv(where: Path, site: Path) -> Path:
    """A venv layered on this environment (``tests/plugin_packages.make_venv``: works from a
    virtualenv too) that also sees the benchmark's plugin packages in ``site``."""
    sys.path.insert(0, str(REPO / "tests"))
    from plugin_packages import make_venv as layered_venv

    python = layered_venv(where)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "bench_plugins.pth").write_text(f"{site}\n")
    return python


class Bench:
    def __init__(self, work: Path, packages: int, folder_files: int) -> None:
        self.root = work / f"n{packages}-f{folder_files}"
        self.site = self.root / "site"
        self.folder = self.root / "functions"
        self.cache = self.root / "cache"
        write_site(self.site, packages)
        write_folder(self.folder, folder_files)
        self.python = make_venv(self.root / "venv", self.site)
        self.driver = self.root / "driver.py"
        self.driver.write_text(DRIVER.format(frameworks=FRAMEWORKS))
        self.env = {
            **os.environ,
            "OPENHCS_PLUGINS_CACHE_DIR": str(self.cache),
            "OPENHCS_PLUGINS_FUNCTIONS_DIR": str(self.folder),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_DATA_HOME": str(self.root / "data"),
        }
        # Bytecode is cached for every module, plugins and baseline alike, as pip installs them:
        # a process that compiles every module from source would measure the compiler.
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.env.pop("OPENHCS_PLUGINS_NO_CACHE", None)

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)

    def _timed(self, *args: str) -> tuple[str, float]:
        """Run this venv's python with ``args``; its stdout and the wall-clock seconds."""
        start = time.perf_counter()
        result = subprocess.run(
            [str(self.python), *args],
            env=self.env,
            capture_output=True,
            text=True,
            cwd=self.root,
        )
        wall = time.perf_counter() - start
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        return result.stdout, wall

    def driver_run(self, mode: str) -> dict:
        stdout, wall = self._timed(str(self.driver), mode, str(self.folder))
        data = json.loads(stdout.strip().splitlines()[-1])
        data["wall_s"] = wall
        return data

    def cli_list(self) -> float:
        stdout, wall = self._timed(
            "-c",
            "import sys; from openhcs_plugins.cli import main; "
            "sys.argv[0] = 'openhcs-plugins'; main()",
            "list",
            "--json",
        )
        self.cli_count = len(json.loads(stdout))
        return wall

    def measure(self, repeats: int, cli: bool) -> dict:
        cold, warm, cli_cold, cli_warm = [], [], [], []
        for _ in range(repeats):
            self.clear_cache()
            cold.append(self.driver_run("load"))
            warm.append(self.driver_run("load"))
            if cli:
                self.clear_cache()
                cli_cold.append(self.cli_list())
                cli_warm.append(self.cli_list())
        eager = [self.driver_run("eager") for _ in range(max(2, repeats // 2))]
        result = {
            "cold": _summary(cold),
            "warm": _summary(warm),
            "eager": _summary(eager),
            "registered": warm[-1]["registered"],
            "problems": warm[-1]["problems"],
            "first_problem": warm[-1]["first_problem"],
            "frameworks_lazy": sorted({f for r in cold + warm for f in r["frameworks"]}),
            "plugin_modules_lazy": max(r["plugin_modules"] for r in cold + warm),
            "frameworks_eager": eager[-1]["frameworks"],
            "eager_registered": eager[-1]["registered"],
            "warm_cache_state": sorted({r["cache"] for r in warm}),
        }
        if cli:
            result["cli_cold_s"] = statistics.median(cli_cold)
            result["cli_warm_s"] = statistics.median(cli_warm)
            result["cli_count"] = self.cli_count
        return result


def _summary(runs: list[dict]) -> dict:
    return {
        "work_s": statistics.median(r["work_s"] for r in runs),
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "import_s": statistics.median(r["import_s"] for r in runs),
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "cache": sorted({r.get("cache", "") for r in runs}),
    }


def fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares ``y = a + b x``; returns a, b, r^2 (a flat line through one point)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if not sxx:  # one size only (--sizes 200): nothing to fit
        return my, 0.0, 1.0
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    a = my - b * mx
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return a, b, 1 - ss_res / ss_tot if ss_tot else 1.0


def plot(scaling: dict[int, dict], out: Path) -> None:
    try:
        import matplotlib
    except ImportError:  # a benchmark-only dependency
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"], check=True)
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = sorted(scaling)
    fig, (ax, lin) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=120)
    series = [
        ("eager: import every module", "eager", "o-", "tab:blue"),
        ("lazy, cold cache", "cold", "s-", "tab:orange"),
        ("lazy, warm cache", "warm", "^-", "tab:green"),
    ]
    for label, key, style, color in series:
        ys = [scaling[n][key]["cpu_s"] * 1000 for n in ns]
        ax.plot(ns, ys, style, color=color, label=label)
    ax.set_yscale("log")
    ax.set_title("all three (log scale)")
    for label, key, style, color in series[1:]:
        ys = [scaling[n][key]["cpu_s"] * 1000 for n in ns]
        lin.plot(ns, ys, style, color=color, label=label)
        a, b, r2 = fit([float(n) for n in ns], ys)
        lin.plot(ns, [a + b * n for n in ns], ":", color="grey")
        lin.annotate(f"{b:.2f} ms/package, r²={r2:.3f}", (ns[-1], ys[-1]), ha="right", va="bottom")
    lin.set_title("lazy listing (linear scale, least-squares fit)")
    for axis in (ax, lin):
        axis.set_xlabel("installed plugin packages (5 functions each)")
        axis.set_ylabel("CPU time in process (ms)")
        axis.set_xticks(ns)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    fig.suptitle("openhcs-plugins discovery: time vs. number of plugins")
    fig.tight_layout()
    fig.savefig(out)


def report(full: dict, scaling: dict[int, dict], args: argparse.Namespace, load: str) -> str:
    ns = sorted(scaling)
    xs = [float(n) for n in ns]
    a, b, r2 = fit(xs, [scaling[n]["cold"]["cpu_s"] for n in ns])
    wall_a, wall_b, wall_r2 = fit(xs, [scaling[n]["cold"]["work_s"] for n in ns])
    wa, wb, wr2 = fit(xs, [scaling[n]["warm"]["cpu_s"] for n in ns])
    warm, eager = full["warm"], full["eager"]
    warm_ms, warm_cpu_ms = warm["work_s"] * 1000, warm["cpu_s"] * 1000
    speedup = eager["work_s"] / warm["work_s"]
    cpu_speedup = eager["cpu_s"] / warm["cpu_s"]
    wall_speedup = eager["wall_s"] / warm["wall_s"]
    ok = lambda cond: "met" if cond else "NOT met"  # noqa: E731
    lazy_fw = ", ".join(full["frameworks_lazy"]) or "none"
    eager_fw = ", ".join(full["frameworks_eager"]) or "none"

    def row(label: str, r: dict, frameworks: str, bold: bool = False) -> str:
        wall = f"{r['work_s'] * 1000:.0f} ms"
        cpu = f"{r['cpu_s'] * 1000:.0f} ms"
        if bold:
            wall, cpu = f"**{wall}**", f"**{cpu}**"
        return f"| {label} | {wall} | {cpu} | {r['wall_s'] * 1000:.0f} ms | {frameworks} |"

    lines = [
        "## Discovery (issue 3: plugin packages)",
        "",
        f"Measured by `benchmarks/discovery.py` on {platform.machine()} / Python "
        f"{platform.python_version()} / {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d')}; medians of {args.repeats} runs, each in a fresh "
        "interpreter of a venv. Plugin packages are installed-looking `*.dist-info` directories "
        f"({FUNCTIONS_PER_PACKAGE} decorated functions each, `numpy` + `scipy.ndimage` imports; "
        f"one in {TORCH_EVERY} is a torch plugin); folder files hold one function each. "
        f"Load average during the run: {load} (the machine is shared; a busy machine "
        "inflates wall-clock times). CPU time is `time.process_time()`, which counts every "
        "thread of the process (numpy's BLAS threads too), so it can exceed wall time.",
        "",
        f"### {args.packages} packages + {args.folder_files} folder files "
        f"({full['registered']} functions)",
        "",
        "| | in process, wall | in process, CPU | whole process, wall | frameworks imported |",
        "|---|---:|---:|---:|---|",
        row("`load_plugins()` cold (no cache)", full["cold"], lazy_fw),
        row("`load_plugins()` warm (cache)", warm, lazy_fw, bold=True),
        row("eager baseline (import every module, exec every file)", eager, eager_fw),
        row("eager baseline without the torch plugins", full["eager_numpy"], "none"),
    ]
    if "cli_cold_s" in full:
        lines += [
            f"| `openhcs-plugins list --json` cold | | | {full['cli_cold_s'] * 1000:.0f} ms | |",
            f"| `openhcs-plugins list --json` warm | | | {full['cli_warm_s'] * 1000:.0f} ms | |",
        ]
    lines += [
        "",
        f"- Warm listing of the whole set: {warm_ms:.0f} ms wall, {warm_cpu_ms:.0f} ms CPU "
        f"(target < 150 ms: {ok(min(warm_ms, warm_cpu_ms) < 150)} on CPU time, "
        f"{ok(warm_ms < 150)} on wall time).",
        f"- Against eager in the same run: {speedup:.0f}x (wall), {cpu_speedup:.0f}x (CPU) "
        f"(target >= 10x: {ok(min(speedup, cpu_speedup) >= 10)}); without the torch plugins "
        f"{full['eager_numpy']['work_s'] / warm['work_s']:.0f}x (wall). Whole processes: "
        f"{wall_speedup:.1f}x.",
        f"- A fresh process, import included (issue 12): `import openhcs_plugins.loader` and "
        f"the registry ({warm['import_s'] * 1000:.0f} ms, no numpy) plus warm `load_plugins()` "
        f"take {(warm['import_s'] + warm['work_s']) * 1000:.0f} ms (target <= 150 ms: "
        f"{ok((warm['import_s'] + warm['work_s']) * 1000 <= 150)}), "
        f"{(eager['import_s'] + eager['work_s']) / (warm['import_s'] + warm['work_s']):.0f}x "
        "faster than the eager baseline's imports and work (target >= 10x: "
        f"{ok((eager['import_s'] + eager['work_s']) >= 10 * (warm['import_s'] + warm['work_s']))}"
        ").",
        f"- Framework modules imported by lazy listing: {len(full['frameworks_lazy'])} "
        f"(target 0: {ok(not full['frameworks_lazy'])}); plugin modules imported: "
        f"{full['plugin_modules_lazy']}. The eager baseline imports {eager_fw}.",
        f"- Problems reported: {full['problems']}"
        + (f" (first: `{full['first_problem']}`)" if full["problems"] else "")
        + ".",
        "",
        "### Scaling with the number of packages (no folder files)",
        "",
        "| packages | cold (wall / CPU) | warm (wall / CPU) | eager (wall) |",
        "|---:|---:|---:|---:|",
    ]
    for n in ns:
        s = scaling[n]
        lines.append(
            f"| {n} | {s['cold']['work_s'] * 1000:.0f} / {s['cold']['cpu_s'] * 1000:.0f} ms "
            f"| {s['warm']['work_s'] * 1000:.1f} / {s['warm']['cpu_s'] * 1000:.1f} ms "
            f"| {s['eager']['work_s'] * 1000:.0f} ms |"
        )
    lines += [
        "",
        f"Cold listing (CPU) fits `t = {a * 1000:.1f} ms + {b * 1000:.2f} ms x packages`, "
        f"r^2 = {r2:.4f} (linear: {ok(r2 > 0.98)}); on wall time "
        f"`{wall_a * 1000:.1f} ms + {wall_b * 1000:.2f} ms x packages`, r^2 = {wall_r2:.4f}. "
        f"Warm listing (CPU) fits `{wa * 1000:.1f} ms + {wb * 1000:.3f} ms x packages` "
        f"(r^2 = {wr2:.3f}).",
        "",
        "![discovery time vs. number of plugins](discovery.png)",
        "",
        "Reproduce: `python benchmarks/discovery.py` (options: `--packages`, `--folder-files`, "
        "`--sizes`, `--repeats`, `--no-cli`, `--keep WORKDIR`).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--folder-files", type=int, default=1000)
    parser.add_argument("--sizes", default="25,50,100,200")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI process timings")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    parser.add_argument("--output", type=Path, default=DOCS / "performance-discovery.md")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="openhcs-discovery-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    loads = [os.getloadavg()[0]]
    try:
        print(f"full set: {args.packages} packages + {args.folder_files} files", flush=True)
        bench = Bench(work, args.packages, args.folder_files)
        full = bench.measure(args.repeats, cli=not args.no_cli)
        full["eager_numpy"] = _summary([bench.driver_run("eager-numpy") for _ in range(2)])
        print(json.dumps(full, indent=1), flush=True)
        scaling = {}
        for n in (int(x) for x in args.sizes.split(",")):
            print(f"scaling: {n} packages", flush=True)
            scaling[n] = Bench(work, n, 0).measure(args.repeats, cli=False)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        plot(scaling, args.output.parent / "discovery.png")
        loads.append(os.getloadavg()[0])
        text = report(full, scaling, args, f"{min(loads):.1f} to {max(loads):.1f}")
        args.output.write_text(text)
        print(text)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
