"""Array conversion between the six frameworks.

Detection looks at the type's module name, so it never imports a framework. Conversion imports
only the frameworks whose data is involved.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from openhcs_plugins._memtypes import MemoryType

__all__ = [
    "FrameworkUnavailableError",
    "convert_memory",
    "detect_memory_type",
    "memory_type_of_type",
    "stack_planes",
]


class FrameworkUnavailableError(RuntimeError):
    """A framework a function needs is not installed, or has no usable device."""

    def __init__(self, memory_type: MemoryType, reason: str) -> None:
        self.memory_type = memory_type
        self.reason = reason
        super().__init__(
            f"{memory_type.value} is not usable here: {reason}. "
            f"Install it with: pip install 'openhcs-plugins[{memory_type.extra}]'"
        )


# Top-level module of a type -> memory type. jax arrays live in jaxlib; pyclesperanto arrays in
# its compiled extension module.
_MODULE_PREFIXES: dict[str, MemoryType] = {
    "numpy": MemoryType.NUMPY,
    "cupy": MemoryType.CUPY,
    "torch": MemoryType.TORCH,
    "tensorflow": MemoryType.TENSORFLOW,
    "jax": MemoryType.JAX,
    "jaxlib": MemoryType.JAX,
    "pyclesperanto": MemoryType.PYCLESPERANTO,
}

_TYPE_CACHE: dict[type, MemoryType | None] = {np.ndarray: MemoryType.NUMPY}


def memory_type_of_type(cls: type) -> MemoryType | None:
    """The memory type of arrays of class ``cls``, or None when it is not an array type."""
    try:
        return _TYPE_CACHE[cls]
    except KeyError:
        pass
    found: MemoryType | None = None
    if issubclass(cls, np.ndarray):
        found = MemoryType.NUMPY
    else:
        for klass in cls.__mro__:
            top = klass.__module__.split(".", 1)[0]
            if top in _MODULE_PREFIXES:
                found = _MODULE_PREFIXES[top]
                break
    _TYPE_CACHE[cls] = found
    return found


def detect_memory_type(data: Any) -> MemoryType:
    """The memory type of an array, without importing any framework.

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


def _import(memory_type: MemoryType) -> Any:
    name = {
        MemoryType.JAX: "jax.numpy",
    }.get(memory_type, memory_type.value)
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise FrameworkUnavailableError(memory_type, f"cannot import {name} ({exc})") from exc


def _to_numpy(data: Any, source: MemoryType) -> np.ndarray:
    if source is MemoryType.NUMPY:
        return data
    if source is MemoryType.TORCH:
        return data.detach().cpu().numpy()
    if source is MemoryType.CUPY:
        return data.get()
    if source is MemoryType.TENSORFLOW:
        return data.numpy()
    if source is MemoryType.PYCLESPERANTO:
        return _import(MemoryType.PYCLESPERANTO).pull(data)
    return np.asarray(data)


def _from_numpy(array: np.ndarray, target: MemoryType, device: int | str | None) -> Any:
    if target is MemoryType.NUMPY:
        return array
    module = _import(target)
    if target is MemoryType.TORCH:
        return module.from_numpy(np.ascontiguousarray(array))
    if target is MemoryType.CUPY:
        return module.asarray(array)
    if target is MemoryType.TENSORFLOW:
        return module.convert_to_tensor(array)
    if target is MemoryType.JAX:
        return module.asarray(array)
    return module.push(array)


def convert_memory(data: Any, target: MemoryType | str, *, device: int | str | None = None) -> Any:
    """Convert ``data`` to the framework ``target`` (a :class:`MemoryType` or its name).

    Returns ``data`` itself when it already is of that type.
    """
    target_mt = MemoryType(target)
    source = detect_memory_type(data)
    if source is target_mt:
        return data
    return _from_numpy(_to_numpy(data, source), target_mt, device)


def stack_planes(planes: Sequence[Any], memory_type: MemoryType) -> Any:
    """Stack 2D planes along a new axis 0 in their own framework."""
    if memory_type is MemoryType.NUMPY:
        return np.stack(planes)
    module = _import(memory_type)
    if memory_type is MemoryType.PYCLESPERANTO:
        return module.push(np.stack([_to_numpy(p, memory_type) for p in planes]))
    return module.stack(list(planes))
