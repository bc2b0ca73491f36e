"""The memory-type enum, kept apart so conversion and decorators can both import it."""

from __future__ import annotations

from enum import Enum

__all__ = ["AVAILABLE_MEMORY_TYPES", "MemoryType"]


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
