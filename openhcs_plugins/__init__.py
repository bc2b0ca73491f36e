"""openhcs-plugins: write an image-processing function once, share it as a file or a package.

The main names, re-exported from their modules::

    from openhcs_plugins import numpy, CustomFunctionManager, load_plugins, get_default_registry

Importing the package imports none of those modules (no numpy, no framework, no CLI library):
each name is imported from its module the first time it is used (PEP 562), so a host
application or a command that needs only part of the package pays only for that part.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from openhcs_plugins._opencl import configure_opencl

# Before any plugin or user module can import pyclesperanto (it lists OpenCL devices once, on
# import): every entry (CLI, Python API, registry, isolated worker, pytest plugin) imports this
# package first, and nothing above imports pyclesperanto. About a millisecond.
configure_opencl()

#: Each public name and the module it lives in; the module is imported on first use.
_LAZY: dict[str, str] = {
    "AVAILABLE_MEMORY_TYPES": "openhcs_plugins.memory",
    "MemoryType": "openhcs_plugins.memory",
    "convert_memory": "openhcs_plugins.memory",
    "cupy": "openhcs_plugins.memory",
    "detect_memory_type": "openhcs_plugins.memory",
    "jax": "openhcs_plugins.memory",
    "memory_types": "openhcs_plugins.memory",
    "numpy": "openhcs_plugins.memory",
    "pyclesperanto": "openhcs_plugins.memory",
    "tensorflow": "openhcs_plugins.memory",
    "torch": "openhcs_plugins.memory",
    "Candidate": "openhcs_plugins.sources.candidate",
    "Provenance": "openhcs_plugins.sources.candidate",
    "SourceKind": "openhcs_plugins.sources.candidate",
    "TrustLevel": "openhcs_plugins.sources.candidate",
    "FunctionInfo": "openhcs_plugins.registry",
    "FunctionRegistry": "openhcs_plugins.registry",
    "get_default_registry": "openhcs_plugins.registry",
    "register_function": "openhcs_plugins.registry.adapter",
    "custom_function_signals": "openhcs_plugins.signals",
    "CustomFunctionManager": "openhcs_plugins.manager",
    "CustomFunctionInfo": "openhcs_plugins.manager",
    "ValidationError": "openhcs_plugins.validation",
    "ValidationResult": "openhcs_plugins.validation",
    "validate_code": "openhcs_plugins.validation",
    "validate_function": "openhcs_plugins.validation",
    "RegistryAdapter": "openhcs_plugins.registry.adapter",
    "load_plugins": "openhcs_plugins.loader",
    "LoadReport": "openhcs_plugins.loader",
    "PluginLoadError": "openhcs_plugins.loader",
    "Problem": "openhcs_plugins.sources",
    "get_default_template": "openhcs_plugins.templates",
    "get_template_for_memory_type": "openhcs_plugins.templates",
    # The errors: the base of all, and what a caller of ``registry.get``/``registry.call`` must
    # catch (docs/architecture.md, "Errors").
    "OpenHCSPluginsError": "openhcs_plugins.errors",
    "OpenHCSPluginsWarning": "openhcs_plugins.errors",
    "UnknownFunctionError": "openhcs_plugins.registry",
    "FunctionLoadError": "openhcs_plugins.registry",
    "ContractError": "openhcs_plugins.registry",
    "RegistryCollisionError": "openhcs_plugins.registry",
    "FrameworkUnavailableError": "openhcs_plugins.memory.errors",
    "DtypeChangeError": "openhcs_plugins.memory.errors",
    "IsolationError": "openhcs_plugins.execution.errors",
}

__all__ = ["__version__", *sorted(_LAZY)]


def _installed_version() -> str:
    """The installed distribution's version (its metadata, so it never disagrees with pip)."""
    # importlib.metadata costs ~10-30 ms to import (email, zipfile, csv): only when asked.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openhcs-plugins")
    except PackageNotFoundError:  # a source checkout on sys.path, not installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _installed_version()
    else:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'openhcs_plugins' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The public names and the subpackages already imported, not this module's helpers.
    prefix = f"{__name__}."
    loaded = {
        name
        for name, value in globals().items()
        if isinstance(value, ModuleType) and value.__name__.startswith(prefix)
    }
    return sorted({*__all__, *loaded})
