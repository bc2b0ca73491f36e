"""The six memory-type decorators and ``memory_types``, importable as the OpenHCS docs write them.

>>> from openhcs_plugins.decorators import numpy

A re-export shim, kept for one release: the decorators live in
:mod:`openhcs_plugins.memory.decorators` and are exported by :mod:`openhcs_plugins.memory`.
It imports only :mod:`openhcs_plugins.memory` (no numpy, no framework).
"""

from openhcs_plugins.memory import cupy, jax, memory_types, numpy, pyclesperanto, tensorflow, torch

__all__ = ["cupy", "jax", "memory_types", "numpy", "pyclesperanto", "tensorflow", "torch"]
