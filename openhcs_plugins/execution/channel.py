"""The parent's side of the worker protocol: what it sends, and checking what comes back.

Arguments are encoded for the worker (:func:`encode_argument`); a response frame is read a
little at a time (:class:`FrameReader`), and what each array claims to be (dtype, shape, size)
is checked before anything is allocated or read (:class:`Refused` otherwise). stdout and stderr
are kept up to a cap (:class:`OutputCapture`). The framing itself is
:mod:`openhcs_plugins.execution.protocol`.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from openhcs_plugins.errors import OpenHCSPluginsError
from openhcs_plugins.execution.protocol import ARRAY_KINDS, MAGIC, MAX_DEPTH, PREFIX

__all__ = ["FrameReader", "OutputCapture", "Refused", "encode_argument"]


class Refused(OpenHCSPluginsError):
    """What a worker sent cannot be accepted (malformed, or past a limit); the message says
    which."""


def _array_descriptions(descs: Any, limit: int) -> list[tuple[np.dtype, tuple[int, ...], int]]:
    """Check what a worker says its arrays are, before anything is allocated or read."""
    if not isinstance(descs, list) or len(descs) > 10_000:
        raise Refused("the array list is malformed")
    out = []
    total = 0
    for desc in descs:
        if not isinstance(desc, dict):
            raise Refused("an array description is malformed")
        dtype_text, shape, nbytes = desc.get("dtype"), desc.get("shape"), desc.get("nbytes")
        if not isinstance(dtype_text, str) or len(dtype_text) > 8:
            raise Refused(f"dtype {dtype_text!r} is not allowed")
        try:
            dtype = np.dtype(dtype_text)
        except (TypeError, ValueError):
            raise Refused(f"dtype {dtype_text!r} is not a dtype") from None
        if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.hasobject:
            raise Refused(f"dtype {dtype} is not allowed (bool, integer, float, complex only)")
        if (
            not isinstance(shape, list)
            or len(shape) > 32
            or not all(type(n) is int and n >= 0 for n in shape)
        ):
            raise Refused(f"shape {shape!r} is malformed")
        size = dtype.itemsize * math.prod(shape)
        if type(nbytes) is not int or nbytes != size:
            raise Refused(
                f"an array of shape {tuple(shape)} and dtype {dtype} declares {nbytes!r} bytes"
            )
        total += size
        if total > limit:
            raise Refused(
                f"the result declares {total / 2**20:.1f} MiB of arrays (shape {tuple(shape)}, "
                f"{dtype}), more than the {limit // 2**20} MiB allowed (isolation.max_output_mb)"
            )
        out.append((dtype, tuple(shape), size))
    return out


class FrameReader:
    """Reads one response frame from a pipe, a little at a time, checking as it goes."""

    def __init__(self, max_header: int, max_arrays: int) -> None:
        self.max_header = max_header
        self.max_arrays = max_arrays
        self.buffer = bytearray()
        self.length = -1
        self.header: dict[str, Any] | None = None
        self.arrays: list[np.ndarray] = []
        self.views: list[memoryview] = []
        self.done = False

    def feed_from(self, fd: int) -> bool:
        """Read what is available; True at end of file (before the frame was complete)."""
        if self.header is None:
            want = (PREFIX.size if self.length < 0 else self.length) - len(self.buffer)
            chunk = os.read(fd, min(max(want, 1), 1 << 20))
            if not chunk:
                return True
            self.buffer += chunk
            self._parse()
            return False
        view = self.views[0]
        count = os.readv(fd, [view])
        if count == 0:
            return True
        self.views[0] = view[count:]
        self._advance()
        return False

    def feed_bytes(self, data: bytes) -> None:
        """Feed bytes directly (tests of the checks, and nothing else)."""
        stream = memoryview(data)
        while stream and not self.done:
            if self.header is None:
                want = (PREFIX.size if self.length < 0 else self.length) - len(self.buffer)
                self.buffer += stream[:want]
                stream = stream[want:]
                self._parse()
            else:
                view = self.views[0]
                count = min(len(view), len(stream))
                view[:count] = stream[:count]
                self.views[0] = view[count:]
                stream = stream[count:]
                self._advance()

    def _parse(self) -> None:
        if self.length < 0:
            if len(self.buffer) < PREFIX.size:
                return
            magic, length = PREFIX.unpack(bytes(self.buffer))
            if magic != MAGIC:
                raise Refused("the worker sent something that is not a frame")
            if length > self.max_header:
                raise Refused(
                    f"the worker sent {length / 2**20:.1f} MiB of metadata; at most "
                    f"{self.max_header / 2**20:.0f} MiB is accepted"
                )
            self.length = length
            self.buffer.clear()
        if len(self.buffer) < self.length:
            return
        try:
            header = json.loads(bytes(self.buffer).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise Refused(f"the worker sent malformed metadata ({type(exc).__name__})") from None
        if not isinstance(header, dict) or not isinstance(header.get("op"), str):
            raise Refused("the worker sent malformed metadata")
        self.buffer = bytearray()
        for dtype, shape, size in _array_descriptions(header.get("arrays", []), self.max_arrays):
            try:
                array = np.empty(shape, dtype=dtype)
            except (ValueError, OverflowError, MemoryError) as exc:  # e.g. (0, 2**64)
                raise Refused(f"shape {shape} cannot be made ({exc})") from None
            self.arrays.append(array)
            if size:
                self.views.append(memoryview(array).cast("B"))
        self.header = header
        self._advance()

    def _advance(self) -> None:
        while self.views and len(self.views[0]) == 0:
            self.views.pop(0)
        if not self.views:
            self.done = True


class OutputCapture:
    """Keeps at most ``limit`` bytes of a stream per call and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> bool:
        """True when the call has now written more than the limit."""
        self.total += len(chunk)
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self.total > self.limit

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    def reset(self) -> None:
        self.data = bytearray()
        self.total = 0


def encode_argument(value: Any, arrays: list[np.ndarray], where: str, depth: int = 0) -> Any:
    """Arguments the parent sends: arrays, numbers, strings, lists, tuples, dicts."""
    if depth > MAX_DEPTH:
        raise TypeError(f"{where} is nested too deeply to send to an isolated worker")
    if value is None or type(value) in (bool, int, str, float):
        return value
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(np.asarray(value).view(np.ndarray))
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
            raise TypeError(f"{where} has dtype {array.dtype}, which cannot be sent to a worker")
        arrays.append(array)
        return {"$array": len(arrays) - 1}
    from openhcs_plugins.memory.detect import memory_type_of_type

    if memory_type_of_type(type(value)) is not None:
        from openhcs_plugins.memory.convert import convert_memory

        return encode_argument(
            convert_memory(value, "numpy", device="cpu", writable=False), arrays, where, depth
        )
    if isinstance(value, np.generic):
        return encode_argument(value.item(), arrays, where, depth + 1)
    import enum

    if isinstance(value, enum.Enum):
        return encode_argument(value.value, arrays, where, depth + 1)
    if isinstance(value, complex):
        return {"$complex": [value.real, value.imag]}
    if isinstance(value, (bool, int, float, str)):
        base = next(t for t in (bool, int, float, str) if isinstance(value, t))
        return base(value)
    if isinstance(value, tuple):
        return {
            "$tuple": [
                encode_argument(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)
            ]
        }
    if isinstance(value, list):
        return [encode_argument(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            "$dict": [
                [
                    encode_argument(k, arrays, f"{where} key", depth + 1),
                    encode_argument(v, arrays, f"{where}[{k!r}]", depth + 1),
                ]
                for k, v in value.items()
            ]
        }
    raise TypeError(
        f"{where} is a {type(value).__qualname__}; isolated functions take arrays, numbers, "
        "strings, lists, tuples and dicts"
    )
