"""tensorflow: immutable tensors, shared through DLPack capsules from aligned host buffers.

Owns tensorflow's backend (reading a ``tf.Variable``'s value before export, the legacy capsule
tensorflow takes, ``/GPU:N`` placement), its quiet import (``TF_CPP_MIN_LOG_LEVEL``) and its
distribution names. Imports numpy, :mod:`.base` and ``devices``, ``errors``, ``types`` of
:mod:`openhcs_plugins.memory`; tensorflow itself only in :func:`load`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from openhcs_plugins.memory.devices import CPU, Device, dlpack_device
from openhcs_plugins.memory.errors import FrameworkUnavailableError
from openhcs_plugins.memory.frameworks.base import Backend, import_framework
from openhcs_plugins.memory.types import MemoryType

__all__ = ["DISTRIBUTIONS", "TensorflowBackend", "load"]

DISTRIBUTIONS: tuple[str, ...] = ("tensorflow-cpu", "tensorflow", "tensorflow-gpu")


class TensorflowBackend(Backend):
    memory_type = MemoryType.TENSORFLOW
    immutable = True
    needs_shareable = True

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.tf = module

    def prepare(self, data: Any) -> Any:
        if not hasattr(data, "__dlpack__"):  # tf.Variable: read its current value
            data = self.tf.convert_to_tensor(data)
        return data

    def device_of(self, data: Any) -> Device:
        return dlpack_device(data)

    def to_host(self, data: Any) -> np.ndarray:
        return data.numpy()  # device to host: one copy

    def numpy_dtype(self, data: Any) -> np.dtype:
        return np.dtype(data.dtype.as_numpy_dtype)

    def cast(self, data: Any, dtype: np.dtype) -> Any:
        return self.tf.cast(data, self.tf.as_dtype(dtype))

    def from_dlpack(self, obj: Any) -> Any:
        # tf takes a capsule, not an object; __dlpack__() with no arguments gives the legacy
        # capsule tensorflow understands.
        return self.tf.experimental.dlpack.from_dlpack(obj.__dlpack__())

    def _name(self, device: Device) -> str:
        if device.kind == "cpu":
            return "/CPU:0"
        gpus = self.tf.config.list_logical_devices("GPU")
        if device.index >= len(gpus):
            raise FrameworkUnavailableError(
                self.memory_type,
                f"no GPU device {device.index}: tensorflow sees {len(gpus)} GPU(s)",
                installed=True,
            )
        return f"/GPU:{device.index}"

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: Device | None) -> Any:
        with self.tf.device(self._name(device or CPU)):
            return self.tf.convert_to_tensor(view, dtype=self.tf.as_dtype(dtype))

    def to_device(self, data: Any, device: Device) -> Any:
        if self.device_of(data) == device:
            return data
        with self.tf.device(self._name(device)):
            return self.tf.identity(data)

    def copy(self, data: Any) -> Any:
        return data

    def describe(self) -> str:
        devices = ", ".join(
            d.name.removeprefix("/physical_device:") for d in self.tf.config.list_physical_devices()
        )
        return f"tensorflow {self.tf.__version__}, devices {devices}"


def load() -> TensorflowBackend:
    """Import tensorflow quietly (a :class:`FrameworkUnavailableError` when it cannot)."""
    # Keep tensorflow's C++ start-up chatter (info and warnings) off unless asked for.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return TensorflowBackend(import_framework(MemoryType.TENSORFLOW))
