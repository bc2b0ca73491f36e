"""Switching a host adapter on and off in one environment: the start-up hook file.

``openhcs-plugins host install openhcs`` writes two files into the site-packages of the
environment it runs in (``sysconfig``'s ``purelib``): ``_openhcs_plugins_host_hook.py``, a copy
of :mod:`openhcs_plugins.hosts.openhcs_hook` (standard library only), and
``openhcs_plugins_openhcs_host.pth``, whose one line Python runs at every start of that
environment's interpreter: ``import _openhcs_plugins_host_hook`` (which adds an import hook and
nothing else). ``host uninstall openhcs`` deletes both. The hook module stands alone, so a
removed or broken project never breaks Python's start. It imports only the standard library
and :mod:`openhcs_plugins._storage` (the atomic writes).
"""

from __future__ import annotations

import os
import sysconfig
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "HOOK_FILE",
    "HOOK_LINE",
    "HOOK_MODULE",
    "HookState",
    "hook_path",
    "install_hook",
    "state",
    "uninstall_hook",
]

#: The ``.pth`` file's name.
HOOK_FILE = "openhcs_plugins_openhcs_host.pth"
#: The hook module's name in site-packages (a copy of :mod:`openhcs_plugins.hosts.openhcs_hook`).
HOOK_MODULE = "_openhcs_plugins_host_hook"
#: The ``.pth`` line (a line that starts with ``import`` is executed at start-up).
HOOK_LINE = f"import {HOOK_MODULE}\n"


def _hook_source() -> str:
    return Path(__file__).with_name("openhcs_hook.py").read_text(encoding="utf-8")


@dataclass(frozen=True)
class HookState:
    """Where the hook file of this environment is, and whether it is there (and current)."""

    path: Path
    installed: bool
    current: bool


def hook_path(site_packages: str | os.PathLike[str] | None = None) -> Path:
    """The hook file of this environment (or of ``site_packages``)."""
    folder = Path(site_packages or sysconfig.get_paths()["purelib"])
    return folder / HOOK_FILE


def state(site_packages: str | os.PathLike[str] | None = None) -> HookState:
    path = hook_path(site_packages)
    try:
        line = path.read_text(encoding="utf-8")
        module = path.with_name(HOOK_MODULE + ".py").read_text(encoding="utf-8")
    except OSError:
        return HookState(path, path.exists(), False)
    return HookState(path, True, line == HOOK_LINE and module == _hook_source())


def install_hook(site_packages: str | os.PathLike[str] | None = None) -> Path:
    """Write the hook module, then the ``.pth`` file that imports it (each atomically;
    idempotent); returns the ``.pth`` file's path."""
    from openhcs_plugins._storage import atomic_write_text

    path = hook_path(site_packages)
    atomic_write_text(path.with_name(HOOK_MODULE + ".py"), _hook_source())
    atomic_write_text(path, HOOK_LINE)
    return path


def uninstall_hook(site_packages: str | os.PathLike[str] | None = None) -> bool:
    """Delete the ``.pth`` file (first: Python stops importing the hook), then the hook
    module; False when there was neither."""
    path = hook_path(site_packages)
    found = False
    for target in (path, path.with_name(HOOK_MODULE + ".py")):
        try:
            target.unlink()
            found = True
        except FileNotFoundError:
            pass
    return found
