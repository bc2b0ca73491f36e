"""Array conversion between the six frameworks (numpy, cupy, torch, tensorflow, jax, pyclesperanto).

This module is the dispatcher: it picks the path for a conversion and owns the rules, in the
order :func:`convert_memory` applies them (docs/memory.md has the long version). The framework
modules (:mod:`openhcs_plugins.memory.frameworks`) own how each framework exports, imports and
moves its arrays, and the numpy side of each step (dtype casts, aligned copies). It imports
``types``, ``errors``, ``detect``, ``devices`` and ``frameworks`` of this package, none of which
imports numpy: numpy comes with the first framework module, when data is first converted.

* **Same type:** the array is returned unchanged (no copy, no check) unless a device is asked for.
* **DLPack first.** On the CPU, numpy, torch, jax and tensorflow share memory through DLPack; where
  one of them cannot take the buffer as it is, the data is copied **once** into a fresh buffer it
  can take (64-byte aligned, C-contiguous, already in the target dtype) and that buffer is shared.
  jax and tensorflow need 64-byte aligned, compact buffers; numpy's own allocations are usually
  16-byte aligned, so numpy -> jax/tensorflow costs one copy unless the array came from
  :func:`~openhcs_plugins.memory.buffers.empty_aligned` (or from torch, jax or tensorflow, whose
  allocations are aligned).
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
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from openhcs_plugins.memory.detect import detect_memory_type
from openhcs_plugins.memory.devices import Device, parse_device
from openhcs_plugins.memory.errors import (
    DtypeChangeError,
    DtypeChangeWarning,
    FrameworkUnavailableError,
)
from openhcs_plugins.memory.frameworks import backend
from openhcs_plugins.memory.types import MemoryType, coerce_memory_type

if TYPE_CHECKING:
    import numpy as np

    from openhcs_plugins.memory.frameworks.base import Backend

__all__ = [
    "STRICT_DTYPES_ENV",
    "DtypeChangeError",
    "DtypeChangeWarning",
    "FrameworkUnavailableError",
    "convert_memory",
    "stack_planes",
    "take_plane",
]

#: Set to 1/true/yes to refuse lossy dtype changes instead of warning about them.
STRICT_DTYPES_ENV = "OPENHCS_PLUGINS_STRICT_DTYPES"

# Warnings point at the first frame outside the whole openhcs_plugins package.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


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
    source: np.dtype, dest: Backend, strict: bool | None, source_type: MemoryType
) -> np.dtype:
    target = dest.target_dtype(source)
    if target == source or not dest.loses_values(source, target):
        return target
    memory_type = dest.memory_type
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

    >>> import numpy as np
    >>> out = convert_memory(np.arange(3.0), "numpy")
    >>> out.tolist()
    [0.0, 1.0, 2.0]
    """
    target_mt = coerce_memory_type(target)
    source_mt = detect_memory_type(data)
    if source_mt is target_mt and device is None:
        return data
    want = parse_device(device)
    if want is not None and want.kind == "gpu" and target_mt is MemoryType.NUMPY:
        raise ValueError(
            f"numpy arrays live on the CPU; device {want} is not possible for a numpy result "
            "(convert to cupy, torch, jax or tensorflow to use a GPU)"
        )
    source = backend(source_mt)
    dest = backend(target_mt)
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
        source = backend(MemoryType.NUMPY)
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
    source: Backend,
    dest: Backend,
    writable: bool,
) -> Any:
    """numpy, torch, jax and tensorflow on the CPU: share the buffer, or copy once and share.

    ``view`` is a numpy view of ``data``; ``owned`` means nothing else refers to it (a fresh host
    copy of device data), so it can be shared without the read-only rule.
    """
    must_copy = dtype != view.dtype
    if dest.needs_shareable and not dest.is_shareable(view):
        must_copy = True
    if not owned and not view.flags.writeable:
        if not dest.immutable and writable:
            must_copy = True  # a mutable result must not alias read-only or immutable memory
        elif dest.needs_shareable and source.memory_type is MemoryType.NUMPY:
            must_copy = True  # numpy does not export read-only arrays through DLPack
    to_numpy = dest.memory_type is MemoryType.NUMPY
    if must_copy:
        return dest.from_copy(view, dtype)
    if to_numpy:
        return view
    return dest.from_dlpack(view if owned else data)


def _convert_on_gpu(
    data: Any,
    source: Backend,
    dest: Backend,
    want: Device | None,
    writable: bool,
    strict: bool | None,
) -> Any | None:
    """CUDA data to a GPU framework through DLPack on its device; None when the target cannot
    take it (a jax or tensorflow build without GPU support): the caller goes through the host."""
    try:
        src_dtype = source.numpy_dtype(data)
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


# ----------------------------------------------------------------------------------------------
# Planes


def stack_planes(planes: Sequence[Any], memory_type: MemoryType | str) -> Any:
    """Stack planes along a new axis 0 in the framework ``memory_type``.

    Planes of another type are converted first. pyclesperanto planes are stacked with buffer
    region copies, which need no OpenCL kernel compiler.

    >>> import numpy as np
    >>> stack_planes([np.zeros((2, 2)), np.ones((2, 2))], "numpy").shape
    (2, 2, 2)
    """
    mt = coerce_memory_type(memory_type)
    if not planes:
        raise ValueError("no planes to stack")
    converted = [convert_memory(plane, mt) for plane in planes]
    return backend(mt).stack(converted)


def take_plane(image: Any, index: int) -> Any:
    """Plane ``index`` along axis 0 of ``image``, in its own framework.

    The same as ``image[index]``, except for pyclesperanto, where indexing runs an OpenCL kernel
    and this uses a buffer copy instead (it works where pocl cannot compile kernels).
    """
    return backend(detect_memory_type(image)).take(image, index)
