"""The OpenHCS host adapter: installed plugin packages appear in OpenHCS's function catalog.

OpenHCS 0.8.6 has no entry-point group for functions. Its catalog
(``RegistryService.get_all_functions_with_metadata()``) is built from *registries*
(``LibraryRegistryBase`` subclasses, registered by their ``_registry_name``), in every process
that needs it: the GUI, a catalog-preparation process, the execution server and the workers,
which resolve a function by its key (``registry:name``) through the registry of that name. So
the adapter declares **one registry per plugin namespace**, named after the namespace: the
function ``gaussian_blur`` of the package whose entry point is ``lab_filters`` is
``lab_filters:gaussian_blur`` in OpenHCS, as it is here. Two packages with a function of the
same name both appear; nothing collides with OpenHCS's own functions (``openhcs:...``,
``skimage:...``) or its custom functions (``openhcs:...``), and a namespace equal to an OpenHCS
registry name is not published (reported). Only enabled functions of installed packages are
published (folder functions reach OpenHCS through its own folder loader). Each registry is a
subclass of OpenHCS's own ``OpenHCSRegistry`` (declared contracts, no runtime probing): the
function keeps its module and name (spawn workers import it), and its contract is OpenHCS's
enum. Building the catalog imports the plugin modules, as OpenHCS does for its own.

Everything of OpenHCS's internals this project uses is in this module, pinned to the versions
tested (:data:`SUPPORTED_VERSIONS`); another version is refused with a message that says so.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any

from openhcs_plugins.errors import OpenHCSPluginsError

__all__ = [
    "SUPPORTED_VERSIONS",
    "Publication",
    "UnsupportedOpenHCSVersion",
    "openhcs_version",
    "plugin_namespaces",
    "publish",
]

logger = logging.getLogger(__name__)

#: The OpenHCS versions whose internals this adapter was tested against.
SUPPORTED_VERSIONS = ("0.8.6",)

#: Registry names OpenHCS 0.8.6 uses itself: a namespace of that name is not published.
_OPENHCS_REGISTRIES = frozenset({"openhcs", "skimage", "cupy", "pyclesperanto"})


class UnsupportedOpenHCSVersion(OpenHCSPluginsError, RuntimeError):
    """OpenHCS is installed in a version whose internals this adapter was not tested with."""


@dataclass
class Publication:
    """What :func:`publish` declared: namespace -> modules, and what it left out, why."""

    namespaces: dict[str, tuple[str, ...]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


_published: Publication | None = None


def openhcs_version() -> str | None:
    """OpenHCS's installed version (read from its metadata, nothing imported), or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openhcs")
    except PackageNotFoundError:
        return None


def plugin_namespaces(
    registry: Any = None,
) -> tuple[dict[str, tuple[str, ...]], dict[str, str], list[str]]:
    """namespace -> modules of its enabled functions, namespace -> distribution version, and
    the problems found (as text), from installed packages only (nothing imported).

    ``registry``: one ``load_plugins`` already filled (``doctor``'s); its package entries are
    read and nothing is loaded again (its problems were reported by whoever loaded it)."""
    problems: list[str] = []
    if registry is None:
        from openhcs_plugins.loader import load_plugins
        from openhcs_plugins.registry import FunctionRegistry

        registry = FunctionRegistry()
        report = load_plugins(registry=registry, include_folder=False)
        problems = [str(p) for p in report.problems]
    modules: dict[str, set[str]] = {}
    versions: dict[str, str] = {}
    for info in registry.infos():
        entry_point = info.provenance.entry_point or ""
        value = entry_point.partition("=")[2].strip()
        module = value.partition(":")[0].strip()
        if not module:
            continue
        modules.setdefault(info.namespace, set()).add(module)
        versions[info.namespace] = info.provenance.version or "0"
    return {ns: tuple(sorted(m)) for ns, m in modules.items()}, versions, problems


def publish() -> Publication:
    """Declare one OpenHCS registry per plugin namespace (once per process); returns what was
    declared. Raises :class:`UnsupportedOpenHCSVersion` on an OpenHCS this was not tested with.
    """
    global _published
    if _published is not None:
        return _published
    from openhcs_plugins.memory.decorators import set_waiting_openhcs_contracts

    set_waiting_openhcs_contracts()  # functions decorated before OpenHCS was imported
    version = openhcs_version()
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedOpenHCSVersion(
            f"OpenHCS {version} is installed; the openhcs-plugins host adapter supports "
            f"{', '.join(SUPPORTED_VERSIONS)} (it uses OpenHCS's registry internals). Install "
            f"openhcs=={SUPPORTED_VERSIONS[-1]}, or switch the adapter off with: "
            "openhcs-plugins host uninstall openhcs"
        )
    namespaces, versions, problems = plugin_namespaces()
    publication = Publication(skipped=[f"problem: {p}" for p in problems])
    for namespace, modules in sorted(namespaces.items()):
        if namespace.lower() in _OPENHCS_REGISTRIES:
            publication.skipped.append(
                f"{namespace}: the name of an OpenHCS registry; rename the entry point"
            )
            continue
        _registry_class(namespace, modules, versions.get(namespace, "0"))
        publication.namespaces[namespace] = modules
    for line in publication.skipped:
        logger.warning("openhcs-plugins: not published to OpenHCS: %s", line)
    _published = publication
    return publication


def _registry_class(namespace: str, modules: tuple[str, ...], version: str) -> type:
    """An OpenHCS registry for one namespace (registered with OpenHCS when it is created)."""
    import importlib

    from openhcs.processing.backends.lib_registry.openhcs_registry import OpenHCSRegistry
    from openhcs.processing.backends.lib_registry.unified_registry import LibraryRegistryBase

    class PluginNamespaceRegistry(OpenHCSRegistry):  # type: ignore[misc, valid-type]
        _registry_name = namespace
        _plugin_modules = modules

        def __init__(self) -> None:
            LibraryRegistryBase.__init__(self, namespace)
            self.MODULES_TO_SCAN = list(modules)

        def _get_openhcs_modules(self) -> list[str]:
            return list(modules)

        def get_modules_to_scan(self) -> list[tuple[str, Any]]:
            return [(name, importlib.import_module(name)) for name in modules]

        def cache_source_mtimes(self) -> dict[str, float]:
            return LibraryRegistryBase.cache_source_mtimes(self)

        def get_library_version(self) -> str:
            return version

        def load_or_discover_functions(self) -> dict[str, Any]:
            # OpenHCSRegistry's adds OpenHCS's custom functions: those are its own registry's
            return LibraryRegistryBase.load_or_discover_functions(self)

        def _generate_function_name(self, original_name: str, module_name: str) -> str:
            return original_name  # the key is namespace:name, as in openhcs-plugins

        def _generate_tags(self, module_name: str) -> list[str]:
            return ["openhcs-plugins", namespace]

        def get_display_name(self) -> str:
            return namespace

        def get_module_patterns(self) -> list[str]:
            return sorted({name.split(".")[0] for name in modules})

        @classmethod
        def metadata_for_declared_callable(cls, func: Any) -> Any:
            declared = inspect.unwrap(func)
            if getattr(declared, "__module__", None) not in cls._plugin_modules:
                return None  # not ours: OpenHCS's own registries answer for it
            return cls()._metadata_for_function(declared.__name__, func, declared.__module__)

    name = _CLASS_PREFIX + namespace
    PluginNamespaceRegistry.__name__ = PluginNamespaceRegistry.__qualname__ = name
    # OpenHCS caches its registry classes by module and name: this module holds them
    globals()[name] = PluginNamespaceRegistry
    return PluginNamespaceRegistry


_CLASS_PREFIX = "PluginRegistry_"


def __getattr__(name: str) -> Any:
    """A plugin registry class OpenHCS's registry cache asks for before :func:`publish` ran in
    this process (PEP 562): publish, then answer."""
    import sys

    # only where the host hook is on: after `host uninstall` OpenHCS's cached class names
    # must not bring the registries back
    if name.startswith(_CLASS_PREFIX) and "_openhcs_plugins_host_hook" in sys.modules:
        publish()
        if name in globals():
            return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
