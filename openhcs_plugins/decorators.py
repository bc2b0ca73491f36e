"""The six memory-type decorators and ``memory_types``, importable as the OpenHCS docs write them.

>>> from openhcs_plugins.decorators import numpy

A public module (DESIGN.md names it; OpenHCS code imports ``...memory.decorators``), kept for
good: the decorators live in :mod:`openhcs_plugins.memory.decorators` and are exported by
:mod:`openhcs_plugins.memory`; this module re-exports them.
It imports only :mod:`openhcs_plugins.memory` (no numpy, no framework).
"""

from openhcs_plugins.memory import (
    ProcessingContract,
    cupy,
    jax,
    memory_types,
    numpy,
    pyclesperanto,
    tensorflow,
    torch,
)

__all__ = [
    "ProcessingContract",
    "cupy",
    "jax",
    "memory_types",
    "numpy",
    "pyclesperanto",
    "tensorflow",
    "torch",
]
