"""jax: immutable arrays, shared through DLPack from 64-byte aligned, compact host buffers.

Owns jax's backend (the x64-aware dtype rule, ``device_put`` onto a chosen device, the GPU
checks), its import and its distribution name. Imports numpy, :mod:`.base` and ``devices``,
``errors``, ``types`` of :mod:`openhcs_plugins.memory`; jax itself only in :func:`load`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openhcs_plugins.memory.devices import CPU, Device
from openhcs_plugins.memory.errors import FrameworkUnavailableError
from openhcs_plugins.memory.frameworks.base import Backend, import_framework
from openhcs_plugins.memory.types import MemoryType

__all__ = ["DISTRIBUTIONS", "JaxBackend", "load"]

DISTRIBUTIONS: tuple[str, ...] = ("jax",)


class JaxBackend(Backend):
    memory_type = MemoryType.JAX
    immutable = True
    needs_shareable = True

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        import jax.dlpack
        import jax.numpy

        self.jax = module
        self.jnp = jax.numpy
        self.dlpack = jax.dlpack
        self.xp = jax.numpy

    def to_host(self, data: Any) -> np.ndarray:
        return np.asarray(self.jax.device_get(data))

    def target_dtype(self, dtype: np.dtype) -> np.dtype:
        # Honours jax_enable_x64, including the jax.experimental.enable_x64() context manager.
        return np.dtype(self.jax.dtypes.canonicalize_dtype(dtype))

    def from_dlpack(self, obj: Any) -> Any:
        return self.dlpack.from_dlpack(obj)

    def _device(self, device: Device) -> Any:
        if device.kind == "cpu":
            return self.jax.devices("cpu")[0]
        try:
            gpus = self.jax.devices("gpu")
        except RuntimeError as exc:
            raise FrameworkUnavailableError(
                self.memory_type, f"no GPU device {device.index}: {exc}", installed=True
            ) from exc
        if device.index >= len(gpus):
            raise FrameworkUnavailableError(
                self.memory_type,
                f"no GPU device {device.index}: jax sees {len(gpus)}",
                installed=True,
            )
        return gpus[device.index]

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: Device | None) -> Any:
        if view.dtype != dtype:
            view = view.astype(dtype)
        return self.jax.device_put(view, self._device(device or CPU))

    def to_device(self, data: Any, device: Device) -> Any:
        return self.jax.device_put(data, self._device(device))

    def copy(self, data: Any) -> Any:
        return data

    def describe(self) -> str:
        devices = ", ".join(f"{d.platform}:{d.id}" for d in self.jax.devices())
        x64 = "on" if self.jax.config.read("jax_enable_x64") else "off"
        return f"jax {self.jax.__version__}, devices {devices}, x64 {x64}"


def load() -> JaxBackend:
    """Import jax (a :class:`FrameworkUnavailableError` when it cannot) and wrap it."""
    return JaxBackend(import_framework(MemoryType.JAX))
