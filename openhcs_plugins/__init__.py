"""openhcs-plugins: write an image-processing function once, share it as a file or a package.

The main names, re-exported from their modules::

    from openhcs_plugins import numpy, CustomFunctionManager, load_plugins, get_default_registry
"""

from __future__ import annotations

import importlib
from typing import Any

from openhcs_plugins._opencl import configure_opencl
from openhcs_plugins.candidate import Candidate, Provenance, SourceKind, TrustLevel
from openhcs_plugins.memory import (
    AVAILABLE_MEMORY_TYPES,
    MemoryType,
    convert_memory,
    cupy,
    detect_memory_type,
    jax,
    memory_types,
    numpy,
    pyclesperanto,
    tensorflow,
    torch,
)
from openhcs_plugins.registry import (
    FunctionInfo,
    FunctionRegistry,
    get_default_registry,
    register_function,
)
from openhcs_plugins.signals import custom_function_signals

# Before any plugin or user module can import pyclesperanto (it lists OpenCL devices once, on
# import): every entry (CLI, Python API, registry, isolated worker, pytest plugin) imports this
# package first, and nothing above imports pyclesperanto. About a millisecond.
configure_opencl()

__version__ = "0.1.0"

# Names whose modules are imported on first use, so ``import openhcs_plugins`` stays cheap.
_LAZY: dict[str, str] = {
    "CustomFunctionManager": "openhcs_plugins.manager",
    "CustomFunctionInfo": "openhcs_plugins.manager",
    "ValidationError": "openhcs_plugins.validation",
    "ValidationResult": "openhcs_plugins.validation",
    "validate_code": "openhcs_plugins.validation",
    "validate_function": "openhcs_plugins.validation",
    "RegistryAdapter": "openhcs_plugins.adapter",
    "load_plugins": "openhcs_plugins.loader",
    "LoadReport": "openhcs_plugins.loader",
    "PluginLoadError": "openhcs_plugins.loader",
    "Problem": "openhcs_plugins.sources",
    "get_default_template": "openhcs_plugins.templates",
    "get_template_for_memory_type": "openhcs_plugins.templates",
}

__all__ = [
    "AVAILABLE_MEMORY_TYPES",
    "Candidate",
    "FunctionInfo",
    "FunctionRegistry",
    "MemoryType",
    "Provenance",
    "SourceKind",
    "TrustLevel",
    "__version__",
    "convert_memory",
    "cupy",
    "custom_function_signals",
    "detect_memory_type",
    "get_default_registry",
    "jax",
    "memory_types",
    "numpy",
    "pyclesperanto",
    "register_function",
    "tensorflow",
    "torch",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'openhcs_plugins' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
