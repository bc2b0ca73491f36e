"""Devices as conversion asks for them: ``None``, ``"cpu"``, a GPU index, ``"cuda:N"``.

Owns the small device value every framework module speaks (:class:`Device`), the parser of what
a caller passes as ``device=`` and the reading of a DLPack device. It imports no numpy and no
framework (framework device objects are read by their attributes), and nothing of this package.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["CPU", "Device", "dlpack_device", "parse_device"]


@dataclass(frozen=True)
class Device:
    """Where an array lives: the CPU, CUDA/ROCm GPU ``index`` or OpenCL device ``index``."""

    kind: Literal["cpu", "gpu", "opencl"]
    index: int = 0

    def __str__(self) -> str:
        return "cpu" if self.kind == "cpu" else f"{self.kind}:{self.index}"


CPU = Device("cpu")
# DLPack device types: kDLCPU=1, kDLCUDA=2, kDLCUDAHost=3, kDLROCM=10, kDLCUDAManaged=13.
_DLPACK_GPU_TYPES = frozenset({2, 10, 13})


def parse_device(device: Any) -> Device | None:
    """``None``, ``"cpu"``, an int GPU index, ``"cuda:N"``, ``"gpu:N"``, ``"/GPU:N"`` or a
    framework's device object (``torch.device``, a jax device, ``cupy.cuda.Device``).

    >>> parse_device("cuda:1")
    Device(kind='gpu', index=1)
    """
    if device is None:
        return None
    if isinstance(device, Device):
        return device
    # numbers.Integral covers int and numpy's integer types (numpy registers them).
    if isinstance(device, numbers.Integral) and not isinstance(device, bool):
        if device < 0:
            raise ValueError(f"device index must be >= 0, not {device}")
        return Device("gpu", int(device))
    # torch.device has .type/.index, jax devices .platform/.id, cupy.cuda.Device .id only.
    platform = getattr(device, "platform", None) or getattr(device, "type", None)
    if not isinstance(device, str) and isinstance(platform, str):
        index = getattr(device, "index", None)
        if index is None:
            index = getattr(device, "id", 0)
        device = f"{platform}:{index or 0}"
    elif not isinstance(device, str) and type(device).__module__.startswith("cupy"):
        device = f"cuda:{device.id}"
    if not isinstance(device, str):
        raise TypeError(
            f"cannot read a device from {device!r}; pass 'cpu', a GPU index or 'cuda:N'"
        )
    text = device.strip().lower().removeprefix("/")
    text = text.removeprefix("device:").removeprefix("physical_device:")
    kind, _, index_text = text.partition(":")
    if kind == "cpu":
        return CPU
    if kind in ("gpu", "cuda", "rocm"):
        try:
            return Device("gpu", int(index_text or 0))
        except ValueError:
            pass
    raise ValueError(
        f"cannot read a device from {device!r}; use 'cpu', a GPU index N, 'cuda:N', 'gpu:N' "
        "or '/GPU:N'"
    )


def dlpack_device(data: Any) -> Device:
    """The device of a DLPack-exporting array (``__dlpack_device__``)."""
    kind, index = data.__dlpack_device__()
    return Device("gpu", int(index)) if int(kind) in _DLPACK_GPU_TYPES else CPU
