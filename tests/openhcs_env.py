"""The real OpenHCS for the host tests: ``openhcs==0.8.6`` from the package index, installed
with pip into a virtual environment of its own (about 1.5 GB, a few minutes).

The environment is kept in ``~/.cache/openhcs-plugins-tests`` between test runs (a fresh machine
builds it again; a half-built one, without its marker file, is rebuilt). It never contains this
project: tests that need both layer a second environment on it (:func:`layered_venv`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

VERSION = "0.8.6"
CACHE = Path(
    os.environ.get("OPENHCS_PLUGINS_TEST_CACHE", Path.home() / ".cache" / "openhcs-plugins-tests")
)


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def openhcs_venv() -> Path:
    """The Python of a virtual environment holding ``openhcs==0.8.6`` (and not this project)."""
    venv = CACHE / f"venv-openhcs-{VERSION}-py{sys.version_info.major}{sys.version_info.minor}"
    marker = venv / ".complete"
    if marker.exists():
        return _python(venv)
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run(
        [str(_python(venv)), "-m", "pip", "install", "--quiet", f"openhcs=={VERSION}"],
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install openhcs=={VERSION}: {done.stderr[-3000:]}")
    marker.write_text(VERSION)
    return _python(venv)


def openhcs_env(home: Path) -> dict[str, str]:
    """An environment for an OpenHCS process whose data, cache and config live under ``home``
    (so the shared functions folder is ``home/data/openhcs/custom_functions``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OPENHCS"))}
    env.update(
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        HOME=str(home),
        OPENHCS_CPU_ONLY="1",
        QT_QPA_PLATFORM="offscreen",
    )
    return env


#: Loads OpenHCS's folder the way OpenHCS does at start-up and prints what it registered (JSON).
LOAD_FOLDER = """
import json, sys
from openhcs.processing.custom_functions.manager import CustomFunctionManager
manager = CustomFunctionManager()
try:
    loaded = manager.load_all_custom_functions()
    error = None
except Exception as exc:
    loaded, error = 0, f"{type(exc).__name__}: {exc}"
print(json.dumps({"loaded": loaded, "error": error, "folder": str(manager.storage_dir)}))
"""
