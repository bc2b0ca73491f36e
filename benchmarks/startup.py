"""Start-up benchmark: what importing the package and the CLI's commands cost a process.

Each case runs as a fresh process, interleaved with a bare ``python -c pass`` measured in the
same run (the machine is shared and noisy), ``--repeat`` times; the table gives medians and the
time *added* over the bare interpreter. Every process gets empty, temporary per-user folders, so
``list`` sees nothing installed by the user. It also counts the modules ``import openhcs_plugins``
loads and says whether numpy, typer, click or rich are among them. A second table times the
parts a process is made of (click, the CLI's root and the modules of ``list``, rich, the
loader), so a target that is missed says where the time goes; a last line splits ``list``
into the library's part (``load_plugins()`` and ``infos()``) and the CLI's.

    python benchmarks/startup.py [--repeat 21] [--out docs/performance-startup.md]
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

PROBE = (
    "import json, sys; import openhcs_plugins; "
    "m = set(sys.modules); "
    "print(json.dumps({'modules': len(m), "
    "'heavy': sorted(n for n in ('numpy', 'typer', 'click', 'rich', 'pydantic', 'torch', 'jax', "
    "'tensorflow', 'cupy', 'pyclesperanto') if n in m)}))"
)


def cli() -> list[str]:
    exe = shutil.which("openhcs-plugins", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "openhcs_plugins.cli"]


def cases() -> dict[str, list[str]]:
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import openhcs_plugins": [sys.executable, "-c", "import openhcs_plugins"],
        "openhcs-plugins --help": [*cli(), "--help"],
        "openhcs-plugins list": [*cli(), "list"],
        "openhcs-plugins list --json": [*cli(), "list", "--json"],
    }


LIBRARY = "load_plugins() and infos(), nothing installed"

#: The parts, each alone in a fresh process (``python -c CODE``).
PARTS = {
    "import argparse": "import argparse",
    "import click": "import click",
    "the CLI's root group and command table (`import openhcs_plugins.cli`: click)": (
        "import openhcs_plugins.cli"
    ),
    "the list command's modules (`openhcs_plugins.cli._listing`)": (
        "import openhcs_plugins.cli._listing"
    ),
    "rich Console and Table": "import rich.console, rich.table",
    "import openhcs_plugins.loader": "import openhcs_plugins.loader",
    LIBRARY: (
        "from openhcs_plugins import get_default_registry, load_plugins; "
        "load_plugins(); get_default_registry().infos()"
    ),
}


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        # pip compiles an installed package's bytecode; a process that has to compile every
        # module from source (PYTHONDONTWRITEBYTECODE=1, as some shells set) measures the compiler.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            Path(tmp, var).mkdir()
            env[var] = str(Path(tmp, var))
        todo = cases()
        todo.update({name: [sys.executable, "-c", code] for name, code in PARTS.items()})
        for cmd in todo.values():  # warm the OS file cache and the plugin cache
            timed(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in todo}
        for _ in range(args.repeat):
            for name, cmd in todo.items():
                times[name].append(timed(cmd, env))
        probe = json.loads(
            subprocess.run(
                [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    base = statistics.median(times["python -c pass"])
    lines = [
        "# Performance: start-up",
        "",
        f"Produced by `python benchmarks/startup.py --repeat {args.repeat}`. "
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; medians of {args.repeat} fresh processes, interleaved with a "
        "bare interpreter in the same run, with bytecode cached (as pip installs it). Nothing "
        "installed in the per-user folder.",
        "",
        "| process | median ms | added over `python -c pass` (ms) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, samples in times.items():
        if name in PARTS:
            continue
        med = statistics.median(samples)
        lines.append(
            f"| `{name}` | {med * 1e3:.0f} | {(med - base) * 1e3:.0f} | {med / base:.2f} |"
        )
    lines += [
        "",
        "What the processes are made of, each part alone in a fresh `python -c` (same run):",
        "",
        "| part | median ms | added over `python -c pass` (ms) |",
        "|---|---:|---:|",
    ]
    for name in PARTS:
        med = statistics.median(times[name])
        lines.append(f"| {name} | {med * 1e3:.0f} | {(med - base) * 1e3:.0f} |")
    listing = statistics.median(times["openhcs-plugins list"])
    library = statistics.median(times[LIBRARY])
    lines += [
        "",
        f"`openhcs-plugins list` adds {(listing - base) * 1e3:.0f} ms: "
        f"{(library - base) * 1e3:.0f} ms of it is the library's (`load_plugins()` and "
        f"`infos()`, import included), the other {(listing - library) * 1e3:.0f} ms the CLI's "
        "(click, its modules, rich's table, printing).",
    ]
    lines += [
        "",
        f"`import openhcs_plugins` loads {probe['modules']} modules in all; of the heavy ones: "
        f"{', '.join(probe['heavy']) or 'none'}.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
