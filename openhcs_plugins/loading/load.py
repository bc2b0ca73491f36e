"""``load_plugins``: find every plugin function (packages and the folder) and register it lazily.

The orchestration only: settings (:mod:`.switches`), discovery with the cache (:mod:`.cached`),
registration (:mod:`.register`). See :mod:`openhcs_plugins.loader` for the rules.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from openhcs_plugins.loading.cached import discover
from openhcs_plugins.loading.configured import current_settings, disabled_names, policy_for
from openhcs_plugins.loading.register import register_found
from openhcs_plugins.loading.register import verify as verify_entries
from openhcs_plugins.loading.report import LoadReport, PluginLoadError
from openhcs_plugins.registry.adapter import RegistryAdapter

if TYPE_CHECKING:
    from openhcs_plugins.config import Settings
    from openhcs_plugins.registry import FunctionRegistry

__all__ = ["load_plugins"]


def load_plugins(
    *,
    strict: bool = False,
    refresh: bool = False,
    registry: FunctionRegistry | None = None,
    adapter: RegistryAdapter | None = None,
    settings: Settings | None = None,
    include_folder: bool = True,
    folder: str | os.PathLike[str] | None = None,
    include_entry_points: bool = True,
    verify: bool = False,
) -> LoadReport:
    """Find every plugin function (installed packages and the folder) and register it lazily.

    No plugin module and no framework is imported (except a module whose functions are made at
    import time, see the module docstring). Problems are collected, not raised, unless
    ``strict`` is true. ``refresh`` ignores the discovery cache (and rewrites it). ``verify``
    also loads every registered function now (importing its module, running the runtime
    checks) and reports failures as problems; ``openhcs-plugins validate`` uses it.

    ``settings`` (default: :func:`~openhcs_plugins.settings.load_settings`) decide trust levels,
    the import policy, disabled names, the cache and the folder: ``folder`` if given, else
    ``settings.functions_path()``.

    Entries a previous call registered from a package that is gone, disabled or now refused are
    removed, so calling it again after ``pip install``/``uninstall`` updates the registry.

    >>> from openhcs_plugins.registry import FunctionRegistry
    >>> report = load_plugins(include_folder=False, registry=FunctionRegistry())
    >>> isinstance(report.registered, tuple)
    True
    """
    started = time.perf_counter()
    if adapter is None:
        adapter = RegistryAdapter(registry)
    if settings is None:
        settings = current_settings()
    folder_path = Path(folder) if folder is not None else None
    if include_folder and folder_path is None:
        folder_path = settings.functions_path()
    found = discover(
        settings,
        policy=policy_for(settings),
        folder=folder_path if include_folder else None,
        include_entry_points=include_entry_points,
        refresh=refresh,
    )
    report = register_found(
        adapter,
        found,
        disabled_names(settings),
        folder_path if include_folder else None,
        include_entry_points,
    )
    if verify:
        report = verify_entries(adapter.registry, report)
    report = replace(report, cache=found.cache, seconds=time.perf_counter() - started)
    if strict and report.problems:
        raise PluginLoadError(report)
    return report
