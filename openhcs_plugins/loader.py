"""The loader's public face: ``load_plugins`` for every source (installed packages and the folder).

Permanent: README and docs name ``openhcs_plugins.loader``. The work is done in
:mod:`openhcs_plugins.loading` (one job per module); each name here is imported from there the
first time it is used, so ``import openhcs_plugins.loader`` costs nothing.

:func:`load_plugins` asks each source for candidates (:mod:`openhcs_plugins.sources`), checks
each candidate with :func:`openhcs_plugins.validation.validate_code` at its source's trust level,
and registers what passes through the registry adapter. Listing is lazy: a package's module is
imported, and runtime checks run, on the first use of one of its functions. A warm start reads
the discovery cache (:mod:`openhcs_plugins.sources.cache`) and parses nothing.

Failures are isolated: a package whose module is missing or has a syntax error, a function with
a bad signature, two packages claiming one namespace, a folder file that collides with another:
each becomes a :class:`Problem` in the :class:`LoadReport`, and everything else loads.
``strict=True`` turns any problem into a :class:`PluginLoadError` (for CI).

Rules (documented in docs/plugins.md):

- **namespaces**: the entry-point name is the namespace; it must be an ASCII identifier and not
  ``openhcs`` (folder and editor functions). When two *distributions* declare the same namespace,
  **both are refused** and each is reported naming the other; no package can take over another
  package's functions by claiming its namespace. Uninstall one, or disable the namespace.
- **keys**: within the ``openhcs`` namespace, folder files load in name order; a file defining a
  function that is already registered (by an earlier file, the editor or ``register_function``)
  is refused and reported naming both.
- **functions made at import time** (``blur = make_filter(3)``) cannot be read statically. The
  loader imports that one module to find them when its source defines no decorated function,
  when a memory-type decorator is used there other than on a module-level ``def``, or when the
  entry point names the attribute (``module:blur``). Their info says ``signature_from:
  runtime``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openhcs_plugins._exports import lazy_exports

if TYPE_CHECKING:
    from openhcs_plugins.config import ENVIRONMENT_SEPARATOR, environment_id
    from openhcs_plugins.loading.cached import (
        clear_discovery_cache,
        discovery_cache_info,
        validator_key,
    )
    from openhcs_plugins.loading.checks import validate_archive, validate_distribution
    from openhcs_plugins.loading.configured import disabled_names, is_disabled, policy_for
    from openhcs_plugins.loading.discovery import Discovery
    from openhcs_plugins.loading.examine import examine, makes_functions_at_import
    from openhcs_plugins.loading.load import load_plugins
    from openhcs_plugins.loading.register import (
        PluginImportError,
        importer_for,
        module_importer,
        register_discoveries,
    )
    from openhcs_plugins.loading.report import LoadReport, PluginLoadError
    from openhcs_plugins.loading.switches import SettingChange, disable, enable
    from openhcs_plugins.sources.problem import Problem

#: Each public name and the module it lives in (imported on first use).
_LAZY: dict[str, str] = {
    "ENVIRONMENT_SEPARATOR": "openhcs_plugins.config",
    "environment_id": "openhcs_plugins.config",
    "Problem": "openhcs_plugins.sources.problem",
    "LoadReport": "openhcs_plugins.loading.report",
    "PluginLoadError": "openhcs_plugins.loading.report",
    "load_plugins": "openhcs_plugins.loading.load",
    "Discovery": "openhcs_plugins.loading.discovery",
    "examine": "openhcs_plugins.loading.examine",
    "makes_functions_at_import": "openhcs_plugins.loading.examine",
    "PluginImportError": "openhcs_plugins.loading.register",
    "importer_for": "openhcs_plugins.loading.register",
    "module_importer": "openhcs_plugins.loading.register",
    "register_discoveries": "openhcs_plugins.loading.register",
    "disabled_names": "openhcs_plugins.loading.configured",
    "is_disabled": "openhcs_plugins.loading.configured",
    "policy_for": "openhcs_plugins.loading.configured",
    "clear_discovery_cache": "openhcs_plugins.loading.cached",
    "discovery_cache_info": "openhcs_plugins.loading.cached",
    "validator_key": "openhcs_plugins.loading.cached",
    "SettingChange": "openhcs_plugins.loading.switches",
    "disable": "openhcs_plugins.loading.switches",
    "enable": "openhcs_plugins.loading.switches",
    "validate_archive": "openhcs_plugins.loading.checks",
    "validate_distribution": "openhcs_plugins.loading.checks",
}

__all__ = [
    "ENVIRONMENT_SEPARATOR",
    "Discovery",
    "LoadReport",
    "PluginImportError",
    "PluginLoadError",
    "Problem",
    "SettingChange",
    "clear_discovery_cache",
    "disable",
    "disabled_names",
    "discovery_cache_info",
    "enable",
    "environment_id",
    "examine",
    "importer_for",
    "is_disabled",
    "load_plugins",
    "makes_functions_at_import",
    "module_importer",
    "policy_for",
    "register_discoveries",
    "validate_archive",
    "validate_distribution",
    "validator_key",
]


#: The factories' old names (before "loader" meant only this module), kept for one release.
_DEPRECATED: dict[str, tuple[str, str]] = {
    "loader_for": ("openhcs_plugins.loading.register", "importer_for"),
    "module_loader": ("openhcs_plugins.loading.register", "module_importer"),
    "folder_loader": ("openhcs_plugins.execution.dispatch", "folder_importer"),
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, deprecated=_DEPRECATED)
