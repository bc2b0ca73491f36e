"""Benchmark: what the OpenHCS host hook adds to start-up, against the same environment without
it, measured in one run (alternating, so the machine's load hits both alike).

    python benchmarks/host_startup.py --python ENV/bin/python   # an env with OpenHCS 0.8.6
                                                                 # and this project installed

For each of three commands, the median wall time of ``--rounds`` fresh processes with the hook
file present and absent (``host install``/``uninstall openhcs`` in that environment):

- ``python -c pass``: every Python start of the environment (the hook's own cost);
- importing OpenHCS's function registry (the hook publishes the plugin namespaces then: an
  entry-point scan through the discovery cache, no plugin imported);
- OpenHCS's whole catalog, warm (``RegistryService.get_all_functions_with_metadata()`` with
  its caches built; with the hook, the plugin registries load theirs and import the plugin
  modules, which OpenHCS's catalog needs as callables).

Writes the table to ``docs/performance-hosts.md`` (``--output -`` prints it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "`python -c pass`": "pass",
    "import OpenHCS's function registry": (
        "import openhcs.processing.backends.lib_registry.openhcs_registry"
    ),
    "OpenHCS's catalog, warm": (
        "from openhcs.processing.backends.lib_registry.registry_service import RegistryService;"
        "RegistryService.get_all_functions_with_metadata()"
    ),
}


def _site(python: str) -> Path:
    out = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return Path(out.stdout.strip())


def _time(python: str, code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([python, "-c", code], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the environment's Python")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance-hosts.md"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from openhcs_plugins.hosts.install import install_hook, state, uninstall_hook

    site = _site(args.python)
    was_on = state(site).installed
    home = Path(tempfile.mkdtemp(prefix="host-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"),
               XDG_CONFIG_HOME=str(home / "config"), OPENHCS_CPU_ONLY="1")  # fmt: skip
    rows = []
    try:
        for hooked in (True, False):  # build both catalogs' caches first
            (install_hook if hooked else uninstall_hook)(site)
            _time(args.python, COMMANDS["OpenHCS's catalog, warm"], env)
        for label, code in COMMANDS.items():
            samples: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.rounds):
                for hooked in (True, False):
                    (install_hook if hooked else uninstall_hook)(site)
                    samples[hooked].append(_time(args.python, code, env))
            on, off = statistics.median(samples[True]), statistics.median(samples[False])
            rows.append((label, off, on))
    finally:
        (install_hook if was_on else uninstall_hook)(site)
    load = os.getloadavg()
    lines = [
        "# OpenHCS host hook: start-up cost",
        "",
        "Median wall time of fresh processes of one environment (OpenHCS 0.8.6, this project and",
        f"one plugin package), {args.rounds} rounds, hook on and off alternating "
        "(`benchmarks/host_startup.py`).",
        "",
        "| command | hook off | hook on | added | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, off, on in rows:
        lines.append(
            f"| {label} | {off * 1e3:.0f} ms | {on * 1e3:.0f} ms | {(on - off) * 1e3:+.0f} ms | "
            f"{on / off:.2f}x |"
        )
    lines += ["", f"Load average at the end: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}.", ""]
    text = "\n".join(lines)
    from _report import emit

    emit(text, args.output)


if __name__ == "__main__":
    main()
