"""Start-up benchmark: what importing the package and the CLI's commands cost a process.

Each case runs as a fresh process, interleaved with a bare ``python -c pass`` measured in the
same run (the machine is shared and noisy), ``--repeat`` times; the table gives medians and the
time *added* over the bare interpreter. Every process gets empty, temporary per-user folders, so
``list`` sees nothing installed by the user. It also counts the modules ``import openhcs_plugins``
loads and says whether numpy, typer, click or rich are among them.

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
    "'heavy': sorted(n for n in ('numpy', 'typer', 'click', 'rich', 'torch', 'jax') if n in m)}))"
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
        for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            Path(tmp, var).mkdir()
            env[var] = str(Path(tmp, var))
        todo = cases()
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
        "## Start-up (`benchmarks/startup.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; medians of {args.repeat} fresh processes, interleaved with a "
        "bare interpreter in the same run. Nothing installed in the per-user folder.",
        "",
        "| process | median ms | added over `python -c pass` (ms) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, samples in times.items():
        med = statistics.median(samples)
        lines.append(
            f"| `{name}` | {med * 1e3:.0f} | {(med - base) * 1e3:.0f} | {med / base:.2f} |"
        )
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
