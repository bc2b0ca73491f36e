"""Deprecated re-export of :mod:`openhcs_plugins.memory.types`, kept for one release.

The decorator contract (memory types, processing contracts, injected parameters, attribute
names) now lives in :mod:`openhcs_plugins.memory.types`; import it from there. This shim imports
only that module.
"""

from __future__ import annotations

from openhcs_plugins.memory.types import (
    AVAILABLE_MEMORY_TYPES,
    CONTRACT_ATTRIBUTE,
    CONTRACTS,
    DECORATED_MARKER,
    DEFAULT_CONTRACT,
    INJECTED_PARAMETERS,
    MemoryType,
    coerce_contract,
    coerce_memory_type,
    inject_parameters,
)

__all__ = [
    "AVAILABLE_MEMORY_TYPES",
    "CONTRACTS",
    "CONTRACT_ATTRIBUTE",
    "DECORATED_MARKER",
    "DEFAULT_CONTRACT",
    "INJECTED_PARAMETERS",
    "MemoryType",
    "coerce_contract",
    "coerce_memory_type",
    "inject_parameters",
]
