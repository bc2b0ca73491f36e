"""Which framework an array belongs to, read from the module name of its type.

Owns :func:`detect_memory_type` and :func:`memory_type_of_type`. Detection never imports a
framework (nor numpy): it reads ``type(x).__mro__`` module names and caches the answer per
class. It imports only :mod:`openhcs_plugins.memory.types`.
"""

from __future__ import annotations

import sys
from typing import Any

from openhcs_plugins.memory.types import MemoryType

__all__ = ["detect_memory_type", "memory_type_of_type"]

# Top-level module of a type -> memory type. jax arrays live in jaxlib; pyclesperanto arrays in
# its backend extension (pyclesperanto_opencl, pyclesperanto_cuda, ...).
_MODULE_PREFIXES: dict[str, MemoryType] = {
    "numpy": MemoryType.NUMPY,
    "cupy": MemoryType.CUPY,
    "torch": MemoryType.TORCH,
    "tensorflow": MemoryType.TENSORFLOW,
    "jax": MemoryType.JAX,
    "jaxlib": MemoryType.JAX,
    "pyclesperanto": MemoryType.PYCLESPERANTO,
}

_TYPE_CACHE: dict[type, MemoryType | None] = {}


def _memory_type_of_module(module: str) -> MemoryType | None:
    top = module.split(".", 1)[0]
    found = _MODULE_PREFIXES.get(top)
    if found is None and top.startswith("pyclesperanto_"):
        found = MemoryType.PYCLESPERANTO
    return found


def memory_type_of_type(cls: type) -> MemoryType | None:
    """The memory type of arrays of class ``cls``, or None when it is not an array type.

    Reads module names only, so it imports nothing; results are cached per class.

    >>> memory_type_of_type(list) is None
    True
    """
    try:
        return _TYPE_CACHE[cls]
    except KeyError:
        pass
    found: MemoryType | None = None
    # Only an imported numpy can have made an ndarray subclass.
    np = sys.modules.get("numpy")
    if np is not None and issubclass(cls, np.ndarray):
        found = MemoryType.NUMPY
    else:
        for klass in cls.__mro__:
            found = _memory_type_of_module(klass.__module__)
            if found is not None:
                break
    _TYPE_CACHE[cls] = found
    return found


def detect_memory_type(data: Any) -> MemoryType:
    """The memory type of an array, without importing any framework.

    >>> import numpy as np
    >>> detect_memory_type(np.zeros((1, 2, 2))).value
    'numpy'
    """
    found = memory_type_of_type(type(data))
    if found is None:
        raise TypeError(
            f"cannot tell the memory type of a {type(data).__module__}.{type(data).__qualname__}; "
            "pass a numpy, cupy, torch, tensorflow, jax or pyclesperanto array"
        )
    return found
