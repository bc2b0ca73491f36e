"""The six memory-type decorators, importable as the OpenHCS docs write them.

>>> from openhcs_plugins.decorators import numpy
"""

from openhcs_plugins.memory import cupy, jax, memory_types, numpy, pyclesperanto, tensorflow, torch

__all__ = ["cupy", "jax", "memory_types", "numpy", "pyclesperanto", "tensorflow", "torch"]
