"""Array conversion between the six frameworks (numpy, cupy, torch, tensorflow, jax, pyclesperanto).

The rules, in the order :func:`convert_memory` applies them (docs/memory.md has the long version):

* **Same type:** the array is returned unchanged (no copy, no check) unless a device is asked for.
* **DLPack first.** On the CPU, numpy, torch, jax and tensorflow share memory through DLPack; where
  one of them cannot take the buffer as it is, the data is copied **once** into a fresh buffer it
  can take (64-byte aligned, C-contiguous, already in the target dtype) and that buffer is shared.
  jax and tensorflow need 64-byte aligned, compact buffers; numpy's own allocations are usually
  16-byte aligned, so numpy -> jax/tensorflow costs one copy unless the array came from
  :func:`empty_aligned` (or from torch, jax or tensorflow, whose allocations are aligned).
* **dtype rule.** jax without x64 has no 64-bit types; pyclesperanto has no 64-bit, bool,
  float16 or complex types. A change that can lose values (``np.can_cast(src, dst, "safe")`` is
  false: int64 -> int32, float64 -> float32) emits a :class:`DtypeChangeWarning`; with
  ``strict_dtypes=True`` or the environment variable ``OPENHCS_PLUGINS_STRICT_DTYPES=1`` it raises
  :class:`DtypeChangeError` instead. Lossless changes (bool -> uint8, float16 -> float32) are
  silent.
* **Read-only rule.** jax and tensorflow arrays are immutable and numpy can mark arrays read-only.
  With ``writable=True`` (the default, what the decorators use: callers write into results), a
  numpy, torch or cupy result never shares memory with an immutable or read-only source: it is
  copied once. ``writable=False`` returns the zero-copy view instead (numpy marks it read-only;
  torch cannot, so do not write into it).
* **Devices.** ``device=None`` keeps GPU data on its GPU when the target framework can hold it there
  and otherwise uses the CPU (cupy: the current CUDA device; pyclesperanto: the current OpenCL
  device). ``device="cpu"``, a GPU index ``N``, ``"cuda:N"``, ``"gpu:N"`` or ``"/GPU:N"`` asks for
  one; a framework without that device raises :class:`FrameworkUnavailableError`.
* **Fallback:** a numpy round trip, one copy at most where no zero-copy path exists (two for
  pyclesperanto -> jax/tensorflow, whose host buffer is unaligned).

No framework is imported unless its data is involved: detection reads the module name of the
array's type, and each framework's backend is created on first use.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import math
import os
import sys
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from openhcs_plugins._memtypes import MemoryType
from openhcs_plugins._opencl import configure_opencl, diagnose_no_device, find_pocl_library
from openhcs_plugins._opencl import system_icds as _system_icds

__all__ = [
    "ALIGNMENT",
    "STRICT_DTYPES_ENV",
    "DtypeChangeError",
    "DtypeChangeWarning",
    "FrameworkStatus",
    "FrameworkUnavailableError",
    "check_framework",
    "configure_opencl",
    "convert_memory",
    "detect_memory_type",
    "empty_aligned",
    "find_pocl_library",
    "framework_status",
    "memory_type_of_type",
    "stack_planes",
    "take_plane",
]

#: Byte alignment jax and tensorflow need to share a CPU buffer (XLA's and Eigen's minimum).
ALIGNMENT = 64
#: Set to 1/true/yes to refuse lossy dtype changes instead of warning about them.
STRICT_DTYPES_ENV = "OPENHCS_PLUGINS_STRICT_DTYPES"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


# ----------------------------------------------------------------------------------------------
# Errors and warnings


class FrameworkUnavailableError(RuntimeError):
    """A framework a function needs is not installed, or has no usable device.

    ``memory_type`` and ``reason`` say which and why; the message names the extra to install.
    ``installed`` is True when the framework imports but cannot run here (cupy without a CUDA
    device, a GPU index that does not exist). ``fix``, when given, replaces the generic advice
    (the reason already names what is missing and the command that fixes it).
    """

    def __init__(
        self,
        memory_type: MemoryType,
        reason: str,
        *,
        installed: bool = False,
        fix: str | None = None,
    ) -> None:
        self.memory_type = MemoryType(memory_type)
        self.reason = reason
        self.installed = installed
        self.extra = self.memory_type.extra
        install = f"pip install 'openhcs-plugins[{self.extra}]'"
        if fix is not None:
            super().__init__(f"{self.memory_type.value} is not usable here: {reason}{fix}")
            return
        if installed:
            hint = (
                f"it is installed ({install}) but cannot run here: use a machine with the device, "
                f"pass device='cpu' where the framework has a CPU, or declare another memory type"
            )
        else:
            hint = f"install it with: {install}"
        super().__init__(f"{self.memory_type.value} is not usable here: {reason}; {hint}")


class DtypeChangeWarning(UserWarning):
    """A conversion changed the dtype in a way that can lose values (e.g. int64 -> int32)."""


class DtypeChangeError(TypeError):
    """A lossy dtype change was refused (strict dtypes: see :data:`STRICT_DTYPES_ENV`)."""

    def __init__(
        self, message: str, *, source: np.dtype, target: np.dtype, memory_type: MemoryType
    ) -> None:
        super().__init__(message)
        self.source = source
        self.target = target
        self.memory_type = memory_type


# ----------------------------------------------------------------------------------------------
# Detection (never imports a framework)

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

_TYPE_CACHE: dict[type, MemoryType | None] = {np.ndarray: MemoryType.NUMPY}


def _memory_type_of_module(module: str) -> MemoryType | None:
    top = module.split(".", 1)[0]
    found = _MODULE_PREFIXES.get(top)
    if found is None and top.startswith("pyclesperanto_"):
        found = MemoryType.PYCLESPERANTO
    return found


def memory_type_of_type(cls: type) -> MemoryType | None:
    """The memory type of arrays of class ``cls``, or None when it is not an array type.

    Reads module names only, so it imports nothing; results are cached per class.

    >>> memory_type_of_type(np.ndarray).value
    'numpy'
    >>> memory_type_of_type(int) is None
    True
    """
    try:
        return _TYPE_CACHE[cls]
    except KeyError:
        pass
    found: MemoryType | None = None
    if issubclass(cls, np.ndarray):
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


def _coerce_memory_type(value: MemoryType | str) -> MemoryType:
    try:
        return MemoryType(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a memory type; use one of: " + ", ".join(m.value for m in MemoryType)
        ) from None


# ----------------------------------------------------------------------------------------------
# Buffers


def empty_aligned(shape: int | Sequence[int], dtype: Any, alignment: int = ALIGNMENT) -> np.ndarray:
    """An uninitialised C-contiguous numpy array whose data starts on an ``alignment`` boundary.

    jax and tensorflow share such buffers without copying (numpy's own allocations are usually
    only 16-byte aligned). Use it to read images straight into a shareable buffer, e.g.
    ``tifffile.imread(path, out=empty_aligned(shape, dtype))``.

    >>> empty_aligned((2, 3), "float32").ctypes.data % 64
    0
    """
    dtype = np.dtype(dtype)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + alignment, dtype=np.uint8)
    # np.ndarray(buffer=, offset=) keeps the offset even for empty arrays (slicing does not).
    return np.ndarray(shape, dtype=dtype, buffer=raw, offset=(-raw.ctypes.data) % alignment)


def _is_shareable(view: np.ndarray) -> bool:
    """True when jax and tensorflow can take ``view``'s buffer as it is."""
    return view.flags.c_contiguous and view.ctypes.data % ALIGNMENT == 0


def _fresh_copy(view: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """One pass: copy (and cast) ``view`` into a new aligned, contiguous, writable buffer."""
    out = empty_aligned(view.shape, dtype)
    np.copyto(out, view, casting="unsafe")
    return out


# ----------------------------------------------------------------------------------------------
# Devices


@dataclass(frozen=True)
class _Device:
    kind: Literal["cpu", "gpu", "opencl"]
    index: int = 0

    def __str__(self) -> str:
        return "cpu" if self.kind == "cpu" else f"{self.kind}:{self.index}"


_CPU = _Device("cpu")
# DLPack device types: kDLCPU=1, kDLCUDA=2, kDLCUDAHost=3, kDLROCM=10, kDLCUDAManaged=13.
_DLPACK_GPU_TYPES = frozenset({2, 10, 13})


def _parse_device(device: Any) -> _Device | None:
    """``None``, ``"cpu"``, an int GPU index, ``"cuda:N"``, ``"gpu:N"``, ``"/GPU:N"`` or a
    framework's device object (``torch.device``, a jax device, ``cupy.cuda.Device``)."""
    if device is None:
        return None
    if isinstance(device, _Device):
        return device
    if isinstance(device, (int, np.integer)) and not isinstance(device, bool):
        if device < 0:
            raise ValueError(f"device index must be >= 0, not {device}")
        return _Device("gpu", int(device))
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
        return _CPU
    if kind in ("gpu", "cuda", "rocm"):
        try:
            return _Device("gpu", int(index_text or 0))
        except ValueError:
            pass
    raise ValueError(
        f"cannot read a device from {device!r}; use 'cpu', a GPU index N, 'cuda:N', 'gpu:N' "
        "or '/GPU:N'"
    )


def _dlpack_device(data: Any) -> _Device:
    kind, index = data.__dlpack_device__()
    return _Device("gpu", int(index)) if int(kind) in _DLPACK_GPU_TYPES else _CPU


# ----------------------------------------------------------------------------------------------
# Backends: one per framework, created (and the framework imported) on first use


class _Backend:
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

    def device_of(self, data: Any) -> _Device:
        return _dlpack_device(data)

    def host_view(self, data: Any) -> np.ndarray:
        """A zero-copy numpy view of CPU data (read-only for jax and tensorflow)."""
        return np.from_dlpack(data)

    def to_host(self, data: Any) -> np.ndarray:
        """A fresh host copy of data on a device (one transfer)."""
        raise NotImplementedError

    def cast(self, data: Any, dtype: np.dtype) -> Any:
        return data.astype(dtype)

    # target side
    def target_dtype(self, dtype: np.dtype) -> np.dtype:
        """The dtype this framework stores ``dtype`` as."""
        return dtype

    def from_dlpack(self, obj: Any) -> Any:
        """Zero-copy import of a DLPack-exportable object on the same device."""
        raise NotImplementedError

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: _Device | None) -> Any:
        """Copy a host array onto ``device`` (frameworks whose arrays are not host memory)."""
        raise NotImplementedError

    def to_device(self, data: Any, device: _Device) -> Any:
        raise NotImplementedError

    def copy(self, data: Any) -> Any:
        return data.copy()

    def stack(self, planes: list[Any]) -> Any:
        return self.xp.stack(planes)

    def take(self, data: Any, index: int) -> Any:
        return data[index]

    def describe(self) -> str:
        """Version and devices, for ``framework_status``."""
        return f"{self.memory_type.value} {self.xp.__version__}"


class _NumpyBackend(_Backend):
    memory_type = MemoryType.NUMPY
    gpu_dlpack = False

    def host_view(self, data: Any) -> np.ndarray:
        return np.asarray(data)

    def from_dlpack(self, obj: Any) -> Any:
        return np.from_dlpack(obj)

    def to_device(self, data: Any, device: _Device) -> Any:
        if device.kind != "cpu":
            raise ValueError(
                f"numpy arrays live on the CPU; device {device} is not possible for a numpy result "
                "(convert to cupy, torch, jax or tensorflow to use a GPU)"
            )
        return data


class _TorchBackend(_Backend):
    memory_type = MemoryType.TORCH

    def prepare(self, data: Any) -> Any:
        if data.requires_grad:
            data = data.detach()
        if data.is_conj():
            data = data.resolve_conj()
        if data.is_neg():
            data = data.resolve_neg()
        return data

    def device_of(self, data: Any) -> _Device:
        device = data.device
        if device.type == "cpu":
            return _CPU
        return _Device("gpu", device.index or 0)

    def host_view(self, data: Any) -> np.ndarray:
        try:
            return data.numpy()
        except TypeError as exc:  # bfloat16 and other types numpy lacks
            raise TypeError(
                f"torch {data.dtype} has no numpy equivalent; cast it (e.g. .float()) first"
            ) from exc

    def to_host(self, data: Any) -> np.ndarray:
        return data.cpu().numpy()

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

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: _Device | None) -> Any:
        target = self._cuda(device.index) if device and device.kind == "gpu" else "cpu"
        tensor = self.xp.from_numpy(view) if view.flags.writeable else self.xp.from_dlpack(view)
        return tensor.to(device=target, dtype=self._dtype(dtype))

    def to_device(self, data: Any, device: _Device) -> Any:
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


class _JaxBackend(_Backend):
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

    def _device(self, device: _Device) -> Any:
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

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: _Device | None) -> Any:
        if view.dtype != dtype:
            view = view.astype(dtype)
        return self.jax.device_put(view, self._device(device or _CPU))

    def to_device(self, data: Any, device: _Device) -> Any:
        return self.jax.device_put(data, self._device(device))

    def copy(self, data: Any) -> Any:
        return data

    def describe(self) -> str:
        devices = ", ".join(f"{d.platform}:{d.id}" for d in self.jax.devices())
        x64 = "on" if self.jax.config.read("jax_enable_x64") else "off"
        return f"jax {self.jax.__version__}, devices {devices}, x64 {x64}"


class _TensorflowBackend(_Backend):
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

    def device_of(self, data: Any) -> _Device:
        return _dlpack_device(data)

    def to_host(self, data: Any) -> np.ndarray:
        return data.numpy()  # device to host: one copy

    def cast(self, data: Any, dtype: np.dtype) -> Any:
        return self.tf.cast(data, self.tf.as_dtype(dtype))

    def from_dlpack(self, obj: Any) -> Any:
        # tf takes a capsule, not an object; __dlpack__() with no arguments gives the legacy
        # capsule tensorflow understands.
        return self.tf.experimental.dlpack.from_dlpack(obj.__dlpack__())

    def _name(self, device: _Device) -> str:
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

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: _Device | None) -> Any:
        with self.tf.device(self._name(device or _CPU)):
            return self.tf.convert_to_tensor(view, dtype=self.tf.as_dtype(dtype))

    def to_device(self, data: Any, device: _Device) -> Any:
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


class _CupyBackend(_Backend):
    memory_type = MemoryType.CUPY
    host_transfer = True

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        reason = _cupy_unusable_reason(module)
        if reason is not None:
            raise FrameworkUnavailableError(self.memory_type, reason, installed=True)

    def device_of(self, data: Any) -> _Device:
        return _Device("gpu", int(data.device.id))

    def to_host(self, data: Any) -> np.ndarray:
        return data.get()

    def from_dlpack(self, obj: Any) -> Any:
        return self.xp.from_dlpack(obj)

    def _index(self, device: _Device | None) -> int:
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

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: _Device | None) -> Any:
        with self.xp.cuda.Device(self._index(device)):
            out = self.xp.asarray(view)
            return out if out.dtype == dtype else out.astype(dtype)

    def to_device(self, data: Any, device: _Device) -> Any:
        index = self._index(device)
        if int(data.device.id) == index:
            return data
        with self.xp.cuda.Device(index):
            return self.xp.asarray(data)

    def describe(self) -> str:
        count = self.xp.cuda.runtime.getDeviceCount()
        return f"cupy {self.xp.__version__}, {count} CUDA device(s)"


def _cupy_unusable_reason(cupy: Any) -> str | None:
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


class _ClesperantoBackend(_Backend):
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

    def device_of(self, data: Any) -> _Device:
        # OpenCL buffers are not shared with the other frameworks (pocl's CPU device included):
        # every conversion goes through the host.
        return _Device("opencl", 0)

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

    def _device(self, device: _Device | None) -> Any:
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

    def from_host(self, view: np.ndarray, dtype: np.dtype, device: _Device | None) -> Any:
        if view.ndim > 3:
            raise ValueError(
                f"pyclesperanto arrays have at most 3 dimensions; got shape {view.shape}"
            )
        # Array.set casts when the dtype differs and makes the host array C-contiguous.
        return self.xp.create(view.shape, dtype, "buffer", self._device(device)).set(view)

    def to_device(self, data: Any, device: _Device) -> Any:
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


_BACKEND_CLASSES: dict[MemoryType, type[_Backend]] = {
    MemoryType.NUMPY: _NumpyBackend,
    MemoryType.TORCH: _TorchBackend,
    MemoryType.JAX: _JaxBackend,
    MemoryType.TENSORFLOW: _TensorflowBackend,
    MemoryType.CUPY: _CupyBackend,
    MemoryType.PYCLESPERANTO: _ClesperantoBackend,
}
_BACKENDS: dict[MemoryType, _Backend] = {MemoryType.NUMPY: _NumpyBackend(np)}
_BACKENDS_LOCK = threading.Lock()


def _import_framework(memory_type: MemoryType) -> Any:
    if memory_type is MemoryType.TENSORFLOW:
        # Keep tensorflow's C++ start-up chatter (info and warnings) off unless asked for.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    elif memory_type is MemoryType.PYCLESPERANTO:
        configure_opencl()
    try:
        return importlib.import_module(memory_type.value)
    except ImportError as exc:
        raise FrameworkUnavailableError(
            memory_type, f"cannot import {memory_type.value} ({exc})"
        ) from exc


def _backend(memory_type: MemoryType) -> _Backend:
    try:
        return _BACKENDS[memory_type]
    except KeyError:
        pass
    with _BACKENDS_LOCK:
        if memory_type not in _BACKENDS:
            module = _import_framework(memory_type)
            _BACKENDS[memory_type] = _BACKEND_CLASSES[memory_type](module)
        return _BACKENDS[memory_type]


# ----------------------------------------------------------------------------------------------
# The dtype rule


def _strict_from_env() -> bool:
    return os.environ.get(STRICT_DTYPES_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _caller_stacklevel() -> int:
    """Stack level of the first frame outside this package, so warnings point at user code."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def _check_dtype(
    source: np.dtype, backend: _Backend, strict: bool | None, source_type: MemoryType
) -> np.dtype:
    target = backend.target_dtype(source)
    if target == source or np.can_cast(source, target, "safe"):
        return target
    memory_type = backend.memory_type
    if memory_type is MemoryType.JAX:
        why = "jax runs without 64-bit types"
        fix = "enable them with jax.config.update('jax_enable_x64', True) before using jax, or "
    else:
        why = f"{memory_type.value} has no {source} arrays"
        fix = ""
    message = (
        f"converting {source_type.value} {source} data to {memory_type.value} makes it {target} "
        f"({why}); values outside the {target} range or precision change. To avoid it, {fix}"
        f"cast the data to {target} yourself"
    )
    if strict if strict is not None else _strict_from_env():
        raise DtypeChangeError(
            f"refused: {message} (strict dtypes: strict_dtypes=True or {STRICT_DTYPES_ENV}=1)",
            source=source,
            target=target,
            memory_type=memory_type,
        )
    warnings.warn(
        f"{message}. Set {STRICT_DTYPES_ENV}=1 to make this an error.",
        DtypeChangeWarning,
        stacklevel=_caller_stacklevel(),
    )
    return target


# ----------------------------------------------------------------------------------------------
# Conversion


def convert_memory(
    data: Any,
    target: MemoryType | str,
    *,
    device: Any = None,
    writable: bool = True,
    strict_dtypes: bool | None = None,
) -> Any:
    """Convert ``data`` to the framework ``target`` (a :class:`MemoryType` or its name).

    Zero-copy through DLPack where the frameworks can share the buffer, one copy otherwise; see
    the module docstring (or docs/memory.md) for the dtype, read-only and device rules.

    Args:
        data: a numpy, cupy, torch, tensorflow, jax or pyclesperanto array.
        target: the memory type to convert to.
        device: ``None`` (keep GPU data on its GPU where the target can, else CPU), ``"cpu"``, a
            GPU index, ``"cuda:N"``, ``"gpu:N"``, ``"/GPU:N"`` or a framework device object.
        writable: when True (default), a numpy/torch/cupy result never shares memory with an
            immutable (jax, tensorflow) or read-only source; it is copied once instead. False
            returns zero-copy views, read-only where numpy can mark them so.
        strict_dtypes: refuse lossy dtype changes (:class:`DtypeChangeError`) instead of warning
            (:class:`DtypeChangeWarning`); None reads ``OPENHCS_PLUGINS_STRICT_DTYPES``.

    Returns ``data`` itself when it already is of type ``target`` and no device is given.

    Raises:
        FrameworkUnavailableError: the target framework is missing or has no such device.
        DtypeChangeError: a lossy dtype change under strict dtypes.
        TypeError: ``data`` is not an array of a known framework.

    >>> out = convert_memory(np.arange(3.0), "numpy")
    >>> out.tolist()
    [0.0, 1.0, 2.0]
    """
    target_mt = _coerce_memory_type(target)
    source_mt = detect_memory_type(data)
    if source_mt is target_mt and device is None:
        return data
    want = _parse_device(device)
    if want is not None and want.kind == "gpu" and target_mt is MemoryType.NUMPY:
        raise ValueError(
            f"numpy arrays live on the CPU; device {want} is not possible for a numpy result "
            "(convert to cupy, torch, jax or tensorflow to use a GPU)"
        )
    source = _backend(source_mt)
    dest = _backend(target_mt)
    data = source.prepare(data)
    if source_mt is target_mt:
        return dest.to_device(data, want)  # type: ignore[arg-type]

    where = source.device_of(data)
    if where.kind == "gpu" and dest.gpu_dlpack and (want is None or want.kind == "gpu"):
        shared = _convert_on_gpu(data, source, dest, want, writable, strict_dtypes)
        if shared is not None:
            return shared
    if where.kind == "cpu":
        view, owned = source.host_view(data), False
    else:
        # A fresh host copy belongs to nobody else: it is shared as it is when writable (some
        # frameworks hand back read-only host copies; those follow the numpy rules).
        view = source.to_host(data)
        owned = view.flags.writeable
        source = _BACKENDS[MemoryType.NUMPY]
    dtype = _check_dtype(view.dtype, dest, strict_dtypes, source_mt)
    if dest.host_transfer or (want is not None and want.kind == "gpu"):
        return dest.from_host(view, dtype, want)
    export = view if source.memory_type is MemoryType.NUMPY else data
    return _convert_on_cpu(export, view, owned, dtype, source, dest, writable)


def _convert_on_cpu(
    data: Any,
    view: np.ndarray,
    owned: bool,
    dtype: np.dtype,
    source: _Backend,
    dest: _Backend,
    writable: bool,
) -> Any:
    """numpy, torch, jax and tensorflow on the CPU: share the buffer, or copy once and share.

    ``view`` is a numpy view of ``data``; ``owned`` means nothing else refers to it (a fresh host
    copy of device data), so it can be shared without the read-only rule.
    """
    must_copy = dtype != view.dtype
    if dest.needs_shareable and not _is_shareable(view):
        must_copy = True
    if not owned and not view.flags.writeable:
        if not dest.immutable and writable:
            must_copy = True  # a mutable result must not alias read-only or immutable memory
        elif dest.needs_shareable and source.memory_type is MemoryType.NUMPY:
            must_copy = True  # numpy does not export read-only arrays through DLPack
    to_numpy = dest.memory_type is MemoryType.NUMPY
    if must_copy:
        fresh = _fresh_copy(view, dtype)
        return fresh if to_numpy else dest.from_dlpack(fresh)
    if to_numpy:
        return view
    return dest.from_dlpack(view if owned else data)


def _convert_on_gpu(
    data: Any,
    source: _Backend,
    dest: _Backend,
    want: _Device | None,
    writable: bool,
    strict: bool | None,
) -> Any | None:
    """CUDA data to a GPU framework through DLPack on its device; None when the target cannot
    take it (a jax or tensorflow build without GPU support): the caller goes through the host."""
    try:
        src_dtype = _numpy_dtype_of(data, source)
    except TypeError:
        return None
    dtype = _check_dtype(src_dtype, dest, strict, source.memory_type)
    if dtype != src_dtype:
        data = source.cast(data, dtype)
    try:
        out = dest.from_dlpack(data)
    except (BufferError, RuntimeError, TypeError, ValueError):
        return None
    if writable and not dest.immutable and source.immutable:
        out = dest.copy(out)
    if want is not None:
        out = dest.to_device(out, want)
    return out


def _numpy_dtype_of(data: Any, source: _Backend) -> np.dtype:
    dtype = data.dtype
    if source.memory_type is MemoryType.TORCH:
        return np.dtype(str(dtype).removeprefix("torch."))
    if source.memory_type is MemoryType.TENSORFLOW:
        return np.dtype(dtype.as_numpy_dtype)
    return np.dtype(dtype)


def stack_planes(planes: Sequence[Any], memory_type: MemoryType | str) -> Any:
    """Stack planes along a new axis 0 in the framework ``memory_type``.

    Planes of another type are converted first. pyclesperanto planes are stacked with buffer
    region copies, which need no OpenCL kernel compiler.

    >>> stack_planes([np.zeros((2, 2)), np.ones((2, 2))], "numpy").shape
    (2, 2, 2)
    """
    mt = _coerce_memory_type(memory_type)
    if not planes:
        raise ValueError("no planes to stack")
    converted = [convert_memory(plane, mt) for plane in planes]
    return _backend(mt).stack(converted)


def take_plane(image: Any, index: int) -> Any:
    """Plane ``index`` along axis 0 of ``image``, in its own framework.

    The same as ``image[index]``, except for pyclesperanto, where indexing runs an OpenCL kernel
    and this uses a buffer copy instead (it works where pocl cannot compile kernels).
    """
    return _backend(detect_memory_type(image)).take(image, index)


# ----------------------------------------------------------------------------------------------
# Status for `openhcs-plugins doctor`

_DISTRIBUTIONS: dict[MemoryType, tuple[str, ...]] = {
    MemoryType.NUMPY: ("numpy",),
    MemoryType.CUPY: ("cupy-cuda12x", "cupy-cuda11x", "cupy-cuda13x", "cupy", "cupy-rocm-5-0"),
    MemoryType.TORCH: ("torch",),
    MemoryType.TENSORFLOW: ("tensorflow-cpu", "tensorflow", "tensorflow-gpu"),
    MemoryType.JAX: ("jax",),
    MemoryType.PYCLESPERANTO: ("pyclesperanto",),
}


@dataclass(frozen=True)
class FrameworkStatus:
    """Whether a framework can run here.

    ``state`` is ``"ok"``, ``"missing"`` (not installed), ``"no-device"`` (installed, but the
    device it needs is absent or cannot run kernels) or ``"broken"`` (installed but fails).
    """

    memory_type: MemoryType
    state: Literal["ok", "missing", "no-device", "broken"]
    detail: str

    @property
    def usable(self) -> bool:
        return self.state == "ok"


def _installed_version(memory_type: MemoryType) -> str | None:
    for dist in _DISTRIBUTIONS[memory_type]:
        try:
            return f"{dist} {importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def check_framework(memory_type: MemoryType | str, *, kernels: bool = True) -> FrameworkStatus:
    """Whether ``memory_type``'s framework is installed and can run here.

    A framework that is not installed is reported without importing anything; an installed one
    is imported. With ``kernels=True``, pyclesperanto must also build and run a tiny kernel
    (pocl's compiler cannot on CPUs its LLVM does not know); with False, array transfers
    (push/pull) are enough.
    """
    mt = _coerce_memory_type(memory_type)
    install = f"pip install 'openhcs-plugins[{mt.extra}]'"
    if importlib.util.find_spec(mt.value) is None:
        return FrameworkStatus(mt, "missing", f"not installed: {install}")
    if mt is MemoryType.PYCLESPERANTO and configure_opencl() is None and not _system_icds():
        return FrameworkStatus(mt, "missing", diagnose_no_device())
    try:
        backend = _backend(mt)
    except FrameworkUnavailableError as exc:
        state: Literal["no-device", "broken"] = "no-device" if exc.installed else "broken"
        return FrameworkStatus(mt, state, exc.reason)
    except Exception as exc:  # a broken install can fail in any way at import
        version = _installed_version(mt) or mt.value
        return FrameworkStatus(mt, "broken", f"{version} fails to import: {exc}")
    try:
        detail = backend.describe()
    except Exception as exc:
        return FrameworkStatus(mt, "broken", f"{mt.value} cannot list its devices: {exc}")
    if mt is MemoryType.PYCLESPERANTO:
        return _check_clesperanto(backend, detail, kernels)
    return FrameworkStatus(mt, "ok", detail)


def _check_clesperanto(backend: _Backend, detail: str, kernels: bool) -> FrameworkStatus:
    cle = backend.xp
    mt = MemoryType.PYCLESPERANTO
    if not cle.list_available_devices():
        return FrameworkStatus(mt, "broken", f"{detail}: no OpenCL device found")
    probe = np.arange(4, dtype=np.float32).reshape(2, 2)
    try:
        pushed = cle.push(probe)
        if not np.array_equal(pushed.get(), probe):
            return FrameworkStatus(mt, "broken", f"{detail}: push/pull returned other values")
    except Exception as exc:
        return FrameworkStatus(mt, "broken", f"{detail}: cannot transfer arrays ({exc})")
    if kernels:
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
            return FrameworkStatus(
                mt,
                "no-device",
                f"{detail}: arrays transfer but OpenCL kernels fail to build ({first}); {hint}",
            )
        if not np.array_equal(added, probe + 1):
            return FrameworkStatus(mt, "broken", f"{detail}: a test kernel returned wrong values")
        detail += ", kernels build"
    return FrameworkStatus(mt, "ok", detail)


def framework_status(*, kernels: bool = True) -> dict[MemoryType, tuple[bool, str]]:
    """For each memory type: ``(usable, detail)`` with the version and devices, or the reason
    and the extra to install. Frameworks that are not installed are never imported.

    >>> framework_status()[MemoryType.NUMPY][0]
    True
    """
    statuses = (check_framework(mt, kernels=kernels) for mt in MemoryType)
    return {status.memory_type: (status.usable, status.detail) for status in statuses}
