"""A plugin environment as Dask workers compare it: this package's version and every plugin
package (distribution, version, origin, functions, the sha256 of each source file), as
``freeze`` records them.

The client computes its own (:func:`expected_environment`) or takes a lock file's; each worker
computes its own and lists the differences (:func:`differences`, the lines ``check`` prints).
Folder files are not compared here: a folder function travels with the task as its validated
source (:mod:`openhcs_plugins.scaleout.shipping`); with a lock file its sha256 must be the
locked one (:func:`function_drifts`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openhcs_plugins.errors import OpenHCSPluginsError

if TYPE_CHECKING:
    from openhcs_plugins.registry import FunctionInfo, FunctionRegistry

__all__ = [
    "INSTALL_HINT",
    "EnvironmentMismatch",
    "check_here",
    "differences",
    "environment",
    "expected_environment",
    "function_drifts",
    "package_registry",
    "process_differences",
]

#: What a refused machine's user runs (docs/distributed.md).
INSTALL_HINT = (
    "install the same plugin packages there: `openhcs-plugins freeze -o plugins.lock` here, "
    "then `openhcs-plugins check plugins.lock` on the worker shows what to change"
)


class EnvironmentMismatch(OpenHCSPluginsError, RuntimeError):
    """A machine whose plugin environment is not the expected one (``subject``: the machine;
    ``lines``: the differences, as ``check`` prints them)."""

    def __init__(self, where: str, lines: list[str], hint: str = INSTALL_HINT) -> None:
        self.lines = list(lines)
        diff = "\n".join(f"    {line}" for line in lines)
        super().__init__(
            f"{where}: the plugin environment differs from the expected one:\n{diff}\n({hint})",
            subject=where,
            hint=hint,
        )


_REGISTRY: list[FunctionRegistry] = []
_REGISTRY_LOCK = threading.Lock()


def package_registry(*, reload: bool = False) -> FunctionRegistry:
    """This process's registry of installed plugin packages (no folder: folder functions come
    with the task), loaded on first use; ``reload`` loads it again (``pip install`` since)."""
    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.registry import FunctionRegistry

    with _REGISTRY_LOCK:
        if not _REGISTRY:
            _REGISTRY.append(FunctionRegistry())
            reload = True
        if reload:
            load_plugins(registry=_REGISTRY[0], include_folder=False)
        return _REGISTRY[0]


def environment(registry: FunctionRegistry | None = None) -> dict[str, Any]:
    """``{"openhcs_plugins": version, "packages": ...}`` of this process (``packages`` as in a
    lock file)."""
    from openhcs_plugins import __version__
    from openhcs_plugins.lockfile import freeze
    from openhcs_plugins.sources.candidate import SourceKind

    registry = registry if registry is not None else package_registry(reload=True)
    infos = [i for i in registry.infos() if i.provenance.source is SourceKind.ENTRY_POINT]
    return {"openhcs_plugins": __version__, "packages": freeze(infos)["packages"]}


def expected_environment(lock: dict[str, Any] | None = None) -> dict[str, Any]:
    """What every worker must have: this process's environment, or the packages of ``lock``
    (the data of a lock file, :func:`openhcs_plugins.lockfile.read_lock`)."""
    if lock is None:
        return environment()
    return {"openhcs_plugins": None, "packages": lock["packages"]}


def differences(expected: dict[str, Any], current: dict[str, Any] | None = None) -> list[str]:
    """Each difference of ``current`` (default: this process's environment) from ``expected``,
    one line each as ``openhcs-plugins check`` prints them; empty when they match."""
    from openhcs_plugins.lockfile import check_lock

    if current is None:
        current = environment()
    lines = []
    pinned, here = expected.get("openhcs_plugins"), current.get("openhcs_plugins")
    if pinned is not None and pinned != here:
        lines.append(f"~ package openhcs-plugins: version {pinned} -> {here}")
    drifts = check_lock(
        {"packages": expected["packages"], "folder": {}},
        {"packages": current["packages"], "folder": {}},
    )
    return lines + [str(drift) for drift in drifts]


_FIRST: list[dict[str, Any]] = []


def process_differences(expected: dict[str, Any]) -> list[str]:
    """:func:`differences` for a long-lived process (a Dask worker): also a line when the
    installed packages changed since this process first looked, because the modules it has
    imported are the old ones whatever the files say now."""
    current = environment()
    with _REGISTRY_LOCK:
        if not _FIRST:
            _FIRST.append(current)
        first = _FIRST[0]
    lines = differences(expected, current)
    if current["packages"] != first["packages"]:
        lines.append(
            "! the plugin packages changed on disk since this worker started (it runs the code "
            "it imported then): restart the worker"
        )
    return lines


def function_drifts(info: FunctionInfo, lock: dict[str, Any]) -> list[str]:
    """How the function ``info`` is not the one ``lock`` pins: its package is not locked, or
    its folder file is not, or has another sha256; editor code is never locked."""
    from openhcs_plugins.sources.candidate import SourceKind

    prov = info.provenance
    if prov.source is SourceKind.ENTRY_POINT:
        if info.namespace not in lock["packages"]:
            return [f"- package {info.namespace}: not in the lock file"]
        return []
    if prov.source is SourceKind.FOLDER and prov.file:
        name = Path(prov.file).name
        locked = lock["folder"].get(name)
        if locked is None:
            return [f"- file {name}: not in the lock file"]
        if locked.get("sha256") != prov.sha256:
            return [f"~ file {name}: changed {locked.get('sha256')} -> {prov.sha256}"]
        return []
    return [f"! {info.key}: {prov.describe()} is in no lock file (save it to the folder first)"]


def check_here(key: str, lock: dict[str, Any]) -> None:
    """Raise :class:`EnvironmentMismatch` unless this machine has ``lock``'s packages and the
    function ``key`` (in the default registry) is the locked one."""
    from openhcs_plugins.registry import get_default_registry

    info = get_default_registry().info(key)
    lines = function_drifts(info, lock) + differences(expected_environment(lock))
    if lines:
        raise EnvironmentMismatch(
            "this machine",
            lines,
            "install what the lock file pins, or freeze this environment again "
            "(`openhcs-plugins check LOCKFILE` lists the same differences)",
        )
