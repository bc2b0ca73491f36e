"""torch: CPU tensors share memory with numpy; CUDA tensors go through DLPack on their device.

Owns torch's backend (detaching and resolving lazy conj/neg views before export, the CUDA device
checks, ``from_numpy`` as the cheap zero-copy import), its import and its distribution name.
Imports numpy, :mod:`.base` and ``devices``, ``errors``, ``types`` of
:mod:`openhcs_plugins.memory`; torch itself only in :func:`load`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from openhcs_plugins.memory.devices import CPU, Device
from openhcs_plugins.memory.errors import FrameworkUnavailableError
from openhcs_plugins.memory.frameworks.base import Backend, import_framework
from openhcs_plugins.memory.types import MemoryType

__all__ = ["DISTRIBUTIONS", "TorchBackend", "load"]

DISTRIBUTIONS: tuple[str, ...] = ("torch",)


class TorchBackend(Backend):
    memory_type = MemoryType.TORCH

    def prepare(self, data: Any) -> Any:
        if data.requires_grad:
            data = data.detach()
        if data.is_conj():
            data = data.resolve_conj()
        if data.is_neg():
            data = data.resolve_neg()
        return data

    def device_of(self, data: Any) -> Device:
        device = data.device
        if device.type == "cpu":
            return CPU
        return Device("gpu", device.index or 0)

    def host_view(self, data: Any) -> np.ndarray:
        try:
            return data.numpy()
        except TypeError as exc:  # bfloat16 and other types numpy lacks
            raise TypeError(
                f"torch {data.dtype} has no numpy equivalent; cast it (e.g. .float()) first"
            ) from exc

    def to_host(self, data: Any) -> np.ndarray:
        return data.cpu().numpy()

    def numpy_dtype(self, data: Any) -> np.dtype:
        return np.dtype(str(data.dtype).removeprefix("torch."))

    def _dtype(self, dtype: np.dtype) -> Any:
        return self.xp.from_numpy(np.empty(0, dtype)).dtype

    def cast(self, data: Any, dtype: np.dtype) -> Any:
        return data.to(self._dtype(dtype))

    def from_dlpack(self, obj: Any) -> Any:
        if type(obj) is np.ndarray and obj.flags.writeable:
            return self.xp.from_numpy(obj)  # half the overhead of from_dlpack for numpy
        return self.xp.from_dlpack(obj)

    def _cuda(self, index: int) -> Any:
        cuda = self.xp.cuda
        if not cuda.is_available():
            raise FrameworkUnavailableError(
                self.memory_type,
                f"no CUDA device {index}: torch.cuda.is_available() is False "
                f"(torch {self.xp.__version__} built for CUDA {self.xp.version.cuda})",
                installed=True,
            )
        if index >= cuda.device_count():
            raise FrameworkUnavailableError(
                self.memory_type,
                f"no CUDA device {index}: torch sees {cuda.device_count()} device(s)",
                installed=True,
            )
        return self.xp.device("cuda", index)

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: Device | None) -> Any:
        target = self._cuda(device.index) if device and device.kind == "gpu" else "cpu"
        tensor = self.xp.from_numpy(view) if view.flags.writeable else self.xp.from_dlpack(view)
        return tensor.to(device=target, dtype=self._dtype(dtype))

    def to_device(self, data: Any, device: Device) -> Any:
        if device.kind == "cpu":
            return data.cpu()
        return data.to(self._cuda(device.index))

    def copy(self, data: Any) -> Any:
        return data.clone()

    def describe(self) -> str:
        text = f"torch {self.xp.__version__}, CPU"
        if self.xp.cuda.is_available():
            text += f", {self.xp.cuda.device_count()} CUDA device(s)"
        return text


def load() -> TorchBackend:
    """Import torch (a :class:`FrameworkUnavailableError` when it cannot) and wrap it."""
    return TorchBackend(import_framework(MemoryType.TORCH))
