"""pyclesperanto: arrays on an OpenCL device (pocl's CPU device without a GPU), never shared.

Owns pyclesperanto's backend (every conversion is a host transfer; its dtype table; stacking and
plane access with buffer region copies, which need no OpenCL compiler), its import after the
OpenCL set-up, its status check (devices, transfers, whether kernels build) and its distribution
name. Imports numpy, :mod:`openhcs_plugins._opencl`, :mod:`.base` and ``devices``, ``errors``,
``types`` of :mod:`openhcs_plugins.memory`; pyclesperanto itself only in :func:`load`.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from openhcs_plugins._opencl import configure_opencl, diagnose_no_device, system_icds
from openhcs_plugins.memory.devices import Device
from openhcs_plugins.memory.errors import FrameworkUnavailableError
from openhcs_plugins.memory.frameworks.base import Backend, import_framework
from openhcs_plugins.memory.types import MemoryType

__all__ = ["DISTRIBUTIONS", "ClesperantoBackend", "load", "no_driver_reason"]

DISTRIBUTIONS: tuple[str, ...] = ("pyclesperanto",)

# pyclesperanto stores these dtypes as others (CLIc has no 64-bit, bool or half types).
_CLE_DTYPES: dict[np.dtype, np.dtype] = {
    np.dtype(np.float64): np.dtype(np.float32),
    np.dtype(np.int64): np.dtype(np.int32),
    np.dtype(np.uint64): np.dtype(np.uint32),
    np.dtype(np.bool_): np.dtype(np.uint8),
    np.dtype(np.float16): np.dtype(np.float32),
}
_CLE_NATIVE = frozenset(
    np.dtype(t) for t in (np.float32, np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32)
)


def no_driver_reason() -> str | None:
    """Why pyclesperanto cannot find any OpenCL driver here (before importing it), or None."""
    if configure_opencl() is None and not system_icds():
        return diagnose_no_device()
    return None


class ClesperantoBackend(Backend):
    memory_type = MemoryType.PYCLESPERANTO
    host_transfer = True
    gpu_dlpack = False

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        # Without an OpenCL device, pyclesperanto imports with a RuntimeWarning and no functions.
        if getattr(module, "create", None) is None or getattr(module, "push", None) is None:
            # It is installed: say what is missing and how to get it, not "install it".
            raise FrameworkUnavailableError(
                self.memory_type,
                f"pyclesperanto {module.__version__}: {diagnose_no_device()}",
                installed=True,
                fix="",
            )

    def device_of(self, data: Any) -> Device:
        # OpenCL buffers are not shared with the other frameworks (pocl's CPU device included):
        # every conversion goes through the host.
        return Device("opencl", 0)

    def to_host(self, data: Any) -> np.ndarray:
        return data.get()

    def target_dtype(self, dtype: np.dtype) -> np.dtype:
        if dtype in _CLE_NATIVE:
            return dtype
        try:
            return _CLE_DTYPES[dtype]
        except KeyError:
            raise TypeError(
                f"pyclesperanto has no {dtype} arrays (it stores float32, int8/16/32 and "
                "uint8/16/32); convert the data to one of those first"
            ) from None

    def _device(self, device: Device | None) -> Any:
        if device is None:
            return self.xp.get_device()
        names = self.xp.list_available_devices()
        if device.kind == "cpu":
            raise ValueError(
                "pyclesperanto arrays live on an OpenCL device; pass device=None for the "
                "current one (pocl's CPU device on a machine without a GPU) or its index"
            )
        if device.index >= len(names):
            raise FrameworkUnavailableError(
                self.memory_type,
                f"no OpenCL device {device.index}: pyclesperanto sees {names}",
                installed=True,
            )
        current = self.xp.get_device()
        chosen = self.xp.select_device(device.index)
        self.xp.select_device(current.name)  # select_device changes the global current device
        return chosen

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: Device | None) -> Any:
        if view.ndim > 3:
            raise ValueError(
                f"pyclesperanto arrays have at most 3 dimensions; got shape {view.shape}"
            )
        # Array.set casts when the dtype differs and makes the host array C-contiguous.
        return self.xp.create(view.shape, dtype, "buffer", self._device(device)).set(view)

    def to_device(self, data: Any, device: Device) -> Any:
        return self.from_host(data.get(), data.dtype, device)

    def stack(self, planes: list[Any]) -> Any:
        # Region copies between buffers need no kernel (kernels need a working OpenCL compiler).
        first = planes[0]
        if first.ndim != 2:
            raise ValueError(
                f"pyclesperanto stacks 2D planes into 3D arrays; got planes of shape {first.shape}"
            )
        height, width = first.shape
        out = self.xp.create((len(planes), height, width), first.dtype, "buffer", first.device)
        for index, plane in enumerate(planes):
            if plane.shape != first.shape or plane.dtype != first.dtype:
                raise ValueError(
                    f"plane {index} is {plane.dtype} {plane.shape}, plane 0 is "
                    f"{first.dtype} {first.shape}; planes must match to be stacked"
                )
            plane._copy_region(out, (0, 0, 0), (index, 0, 0), (1, height, width))
        return out

    def take(self, data: Any, index: int) -> Any:
        # data[index] runs a gather kernel; a region copy does not need the OpenCL compiler.
        if data.ndim != 3:
            return data[index]
        depth, height, width = data.shape
        if not -depth <= index < depth:
            raise IndexError(f"plane {index} is out of range for {depth} planes")
        out = self.xp.create((height, width), data.dtype, "buffer", data.device)
        data._copy_region(out, (index % depth, 0, 0), (0, 0, 0), (1, height, width))
        return out

    def describe(self) -> str:
        device = self.xp.get_device()
        icd = os.environ.get("OCL_ICD_FILENAMES") or "system ICD"
        return f"pyclesperanto {self.xp.__version__} on {device.name} (OpenCL: {icd})"

    def check(self, detail: str, kernels: bool) -> tuple[str, str]:
        """A device, a push/pull round trip and (with ``kernels``) a tiny kernel that builds.

        pocl's compiler cannot build kernels on CPUs its LLVM does not know; transfers still work.
        """
        cle = self.xp
        if not cle.list_available_devices():
            return "broken", f"{detail}: no OpenCL device found"
        probe = np.arange(4, dtype=np.float32).reshape(2, 2)
        try:
            pushed = cle.push(probe)
            if not np.array_equal(pushed.get(), probe):
                return "broken", f"{detail}: push/pull returned other values"
        except Exception as exc:
            return "broken", f"{detail}: cannot transfer arrays ({exc})"
        if not kernels:
            return "ok", detail
        try:
            added = cle.add_image_and_scalar(pushed, scalar=1.0).get()
        except Exception as exc:
            lines = [line.strip() for line in str(exc).splitlines()]
            first = next((line for line in lines if line.startswith("error:")), lines[0])
            hint = (
                "pocl's LLVM does not know this CPU model; a GPU's OpenCL driver or a newer pocl "
                "build runs them"
                if "unknown target CPU" in first
                else "see the OpenCL build log"
            )
            return (
                "no-device",
                f"{detail}: arrays transfer but OpenCL kernels fail to build ({first}); {hint}",
            )
        if not np.array_equal(added, probe + 1):
            return "broken", f"{detail}: a test kernel returned wrong values"
        return "ok", detail + ", kernels build"


def load() -> ClesperantoBackend:
    """Set OpenCL up (pocl when nothing else is configured), then import pyclesperanto."""
    configure_opencl()
    return ClesperantoBackend(import_framework(MemoryType.PYCLESPERANTO))
