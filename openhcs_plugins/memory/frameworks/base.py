"""What a framework module provides: a :class:`Backend` and the guarded import of its framework.

Owns the interface the dispatcher (:mod:`openhcs_plugins.memory.convert`) calls on every
framework: export, import, move, copy, stack, describe and check. The defaults here are the
DLPack paths numpy, torch, jax and tensorflow share; each framework module overrides what
differs. It imports numpy and ``types``, ``errors``, ``devices`` and ``buffers`` of
:mod:`openhcs_plugins.memory`, never a framework (a framework module passes its module in).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from openhcs_plugins.memory.buffers import fresh_copy, is_shareable
from openhcs_plugins.memory.devices import Device, dlpack_device
from openhcs_plugins.memory.errors import FrameworkUnavailableError
from openhcs_plugins.memory.types import MemoryType

__all__ = ["Backend", "import_framework"]


def import_framework(memory_type: MemoryType) -> Any:
    """Import ``memory_type``'s framework; a :class:`FrameworkUnavailableError` when it fails."""
    try:
        return importlib.import_module(memory_type.value)
    except ImportError as exc:
        raise FrameworkUnavailableError(
            memory_type, f"cannot import {memory_type.value} ({exc})"
        ) from exc


class Backend:
    """How one framework exports, imports, moves and stacks arrays."""

    memory_type: MemoryType
    #: Arrays cannot be written in place (jax, tensorflow): sharing them with a mutable result
    #: would let a caller change an "immutable" array.
    immutable = False
    #: DLPack import on the CPU needs compact, 64-byte aligned buffers (jax, tensorflow).
    needs_shareable = False
    #: Arrays never live in host memory (cupy, pyclesperanto): every import is a transfer.
    host_transfer = False
    #: Can import CUDA data through DLPack (when the build has GPU support).
    gpu_dlpack = True

    def __init__(self, module: Any) -> None:
        self.xp = module

    # source side
    def prepare(self, data: Any) -> Any:
        """A DLPack-exportable form of ``data`` (torch: detached; tensorflow: not a Variable)."""
        return data

    def device_of(self, data: Any) -> Device:
        return dlpack_device(data)

    def host_view(self, data: Any) -> np.ndarray:
        """A zero-copy numpy view of CPU data (read-only for jax and tensorflow)."""
        return np.from_dlpack(data)

    def to_host(self, data: Any) -> np.ndarray:
        """A fresh host copy of data on a device (one transfer)."""
        raise NotImplementedError

    def numpy_dtype(self, data: Any) -> np.dtype:
        """The numpy dtype of ``data`` (a TypeError where numpy has none)."""
        return np.dtype(data.dtype)

    def cast(self, data: Any, dtype: np.dtype) -> Any:
        return data.astype(dtype)

    # target side
    def target_dtype(self, dtype: np.dtype) -> np.dtype:
        """The dtype this framework stores ``dtype`` as."""
        return dtype

    @staticmethod
    def loses_values(source: np.dtype, target: np.dtype) -> bool:
        """True when storing ``source`` data as ``target`` can change values."""
        return not np.can_cast(source, target, "safe")

    @staticmethod
    def is_shareable(view: np.ndarray) -> bool:
        """True when jax and tensorflow can take ``view``'s buffer as it is."""
        return is_shareable(view)

    def from_copy(self, view: np.ndarray, dtype: np.dtype) -> Any:
        """One pass: copy (and cast) ``view`` into a fresh aligned buffer and take it."""
        return self.from_dlpack(fresh_copy(view, dtype))

    def from_dlpack(self, obj: Any) -> Any:
        """Zero-copy import of a DLPack-exportable object on the same device."""
        raise NotImplementedError

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: Device | None) -> Any:
        """Copy a host array onto ``device`` (frameworks whose arrays are not host memory)."""
        raise NotImplementedError

    def to_device(self, data: Any, device: Device) -> Any:
        raise NotImplementedError

    def copy(self, data: Any) -> Any:
        return data.copy()

    def stack(self, planes: list[Any]) -> Any:
        return self.xp.stack(planes)

    def take(self, data: Any, index: int) -> Any:
        return data[index]

    # status
    def describe(self) -> str:
        """Version and devices, for ``framework_status``."""
        return f"{self.memory_type.value} {self.xp.__version__}"

    def check(self, detail: str, kernels: bool) -> tuple[str, str]:
        """``(state, detail)`` once the framework imported: ``"ok"`` unless a probe fails."""
        return "ok", detail
