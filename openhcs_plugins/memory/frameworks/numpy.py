"""numpy: the host framework every other one converts through.

Owns numpy's backend (zero-copy views, ``np.from_dlpack``; arrays only on the CPU) and its
distribution name for the status report. Imports numpy and :mod:`.base`, ``buffers``,
``devices`` and ``types`` of :mod:`openhcs_plugins.memory`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openhcs_plugins.memory.buffers import fresh_copy
from openhcs_plugins.memory.devices import Device
from openhcs_plugins.memory.frameworks.base import Backend
from openhcs_plugins.memory.types import MemoryType

__all__ = ["DISTRIBUTIONS", "NumpyBackend", "load"]

#: Distributions that install it, in the order the status report looks them up.
DISTRIBUTIONS: tuple[str, ...] = ("numpy",)


class NumpyBackend(Backend):
    memory_type = MemoryType.NUMPY
    gpu_dlpack = False

    def host_view(self, data: Any) -> np.ndarray:
        return np.asarray(data)

    def from_dlpack(self, obj: Any) -> Any:
        return np.from_dlpack(obj)

    def from_copy(self, view: np.ndarray, dtype: np.dtype) -> Any:
        return fresh_copy(view, dtype)

    def to_device(self, data: Any, device: Device) -> Any:
        if device.kind != "cpu":
            raise ValueError(
                f"numpy arrays live on the CPU; device {device} is not possible for a numpy result "
                "(convert to cupy, torch, jax or tensorflow to use a GPU)"
            )
        return data


def load() -> NumpyBackend:
    """The backend (numpy is a dependency: it always imports)."""
    return NumpyBackend(np)
