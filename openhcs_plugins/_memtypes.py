"""The decorator contract, kept apart so conversion, decorators and validation share it.

This leaf module owns what a memory-type decorator promises and what the static checks read:
the six memory types, the processing contracts, the attribute the contract is stored in, and
the parameters the decorator injects. It imports only the standard library (no numpy), so the
validator can use it without loading a framework.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "AVAILABLE_MEMORY_TYPES",
    "CONTRACTS",
    "CONTRACT_ATTRIBUTE",
    "INJECTED_PARAMETERS",
    "MemoryType",
]


class MemoryType(str, Enum):
    """The six array frameworks a function can declare."""

    NUMPY = "numpy"
    CUPY = "cupy"
    TORCH = "torch"
    TENSORFLOW = "tensorflow"
    JAX = "jax"
    PYCLESPERANTO = "pyclesperanto"

    def __str__(self) -> str:
        return self.value

    @property
    def extra(self) -> str:
        """The ``pip install openhcs-plugins[EXTRA]`` that provides this framework."""
        return self.value


#: The names of the six memory types, in the order the OpenHCS documentation lists them.
AVAILABLE_MEMORY_TYPES: list[str] = [m.value for m in MemoryType]

#: Processing contracts OpenHCS understands (stored in :data:`CONTRACT_ATTRIBUTE`).
CONTRACTS: tuple[str, ...] = ("FLEXIBLE", "PURE_3D", "PURE_2D", "VOLUMETRIC_TO_SLICE")
#: The attribute a decorated function carries its processing contract in (OpenHCS's name).
CONTRACT_ATTRIBUTE = "__openhcs_declared_processing_contract__"
#: Parameters the decorator injects; validation treats them as the decorator's, not the user's.
INJECTED_PARAMETERS: frozenset[str] = frozenset({"slice_by_slice"})
