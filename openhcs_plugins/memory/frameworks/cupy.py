"""cupy: arrays on a CUDA device; host data is transferred, CUDA data shared through DLPack.

Owns cupy's backend (device selection, transfers), the check that a CUDA device can allocate
(cupy imports without one), its import and its distribution names. Imports numpy,
:mod:`.base` and ``devices``, ``errors``, ``types`` of :mod:`openhcs_plugins.memory`; cupy itself
only in :func:`load`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openhcs_plugins.memory.devices import Device
from openhcs_plugins.memory.errors import FrameworkUnavailableError
from openhcs_plugins.memory.frameworks.base import Backend, import_framework
from openhcs_plugins.memory.types import MemoryType

__all__ = ["DISTRIBUTIONS", "CupyBackend", "load", "unusable_reason"]

DISTRIBUTIONS: tuple[str, ...] = (
    "cupy-cuda12x",
    "cupy-cuda11x",
    "cupy-cuda13x",
    "cupy",
    "cupy-rocm-5-0",
)


def unusable_reason(cupy: Any) -> str | None:
    """Why cupy cannot allocate here, or None. ``is_available()`` is False without a GPU and
    the first allocation raises CUDARuntimeError; the runtime error says why."""
    if cupy.cuda.is_available():
        return None
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError, or an import error of the CUDA libraries
        detail = f"{type(exc).__name__}: {exc}"
    else:
        detail = "cupy.cuda.is_available() is False"
    return f"cupy installed but no CUDA device: {detail}"


class CupyBackend(Backend):
    memory_type = MemoryType.CUPY
    host_transfer = True

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        reason = unusable_reason(module)
        if reason is not None:
            raise FrameworkUnavailableError(self.memory_type, reason, installed=True)

    def device_of(self, data: Any) -> Device:
        return Device("gpu", int(data.device.id))

    def to_host(self, data: Any) -> np.ndarray:
        return data.get()

    def from_dlpack(self, obj: Any) -> Any:
        return self.xp.from_dlpack(obj)

    def _index(self, device: Device | None) -> int:
        if device is None:
            return int(self.xp.cuda.Device().id)
        if device.kind == "cpu":
            raise ValueError("cupy arrays live on a CUDA device; device='cpu' is not possible")
        count = self.xp.cuda.runtime.getDeviceCount()
        if device.index >= count:
            raise FrameworkUnavailableError(
                self.memory_type,
                f"no CUDA device {device.index}: cupy sees {count}",
                installed=True,
            )
        return device.index

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: Device | None) -> Any:
        with self.xp.cuda.Device(self._index(device)):
            out = self.xp.asarray(view)
            return out if out.dtype == dtype else out.astype(dtype)

    def to_device(self, data: Any, device: Device) -> Any:
        index = self._index(device)
        if int(data.device.id) == index:
            return data
        with self.xp.cuda.Device(index):
            return self.xp.asarray(data)

    def describe(self) -> str:
        count = self.xp.cuda.runtime.getDeviceCount()
        return f"cupy {self.xp.__version__}, {count} CUDA device(s)"


def load() -> CupyBackend:
    """Import cupy and check it has a CUDA device (a :class:`FrameworkUnavailableError` if not)."""
    return CupyBackend(import_framework(MemoryType.CUPY))
