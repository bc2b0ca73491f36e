"""The worker protocol: frames on two pipes and the values they carry (standard library only).

A frame is ``MAGIC``, a 4-byte big-endian header length, a UTF-8 JSON header, then the raw
bytes of the arrays the header declares (``{"dtype": "<f4", "shape": [...], "nbytes": N}``), in
order. No pickle anywhere. Values are JSON with tags: ``{"$array": i}`` (the i-th array of the
frame), ``{"$tuple": [...]}``, ``{"$dict": [[key, value], ...]}``, ``{"$complex": [re, im]}``.

Both sides use this module: the parent (:mod:`openhcs_plugins.execution.process`) and the
worker script (:mod:`openhcs_plugins.execution.worker`), which loads it before any limit is set,
so it imports nothing but the standard library.
"""

from __future__ import annotations

import json
import os
import struct

__all__ = [
    "ARRAY_KINDS",
    "MAGIC",
    "MAX_DEPTH",
    "MAX_REQUEST_HEADER",
    "PREFIX",
    "SCRATCH_VARIABLES",
    "decode",
    "encode_frame",
    "read_exact",
    "read_into",
    "scratch_environment",
    "write_all",
]


MAGIC = b"OHW1"
PREFIX = struct.Struct(">4sI")
#: Largest JSON header the worker accepts from the parent (sources can be long).
MAX_REQUEST_HEADER = 64 * 1024 * 1024
#: dtype kinds that cross the boundary: bool, signed/unsigned int, float, complex.
ARRAY_KINDS = "biufc"
#: Nesting depth of encoded values (arguments and results).
MAX_DEPTH = 64


#: Variables that point at the scratch folder: where Python (tempfile), tensorflow and pocl
#: (its compiled-kernel cache, else ``$XDG_CACHE_HOME/pocl``) write their files.
SCRATCH_VARIABLES = ("HOME", "TMPDIR", "POCL_CACHE_DIR")


def scratch_environment(scratch: str) -> dict:
    """The environment entries that send every file the job writes to ``scratch``."""
    return dict.fromkeys(SCRATCH_VARIABLES, scratch)


# -- framing -----------------------------------------------------------------------------------


def encode_frame(header: dict) -> bytes:
    """``MAGIC``, length and JSON of ``header`` (arrays follow separately)."""
    data = json.dumps(header, separators=(",", ":"), allow_nan=True).encode("utf-8")
    return PREFIX.pack(MAGIC, len(data)) + data


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data).cast("B")
    while view:
        written = os.write(fd, view[: 1 << 20])
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes | None:
    """``size`` bytes, or None at end of file before the first byte."""
    chunks = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            if left == size:
                return None
            raise EOFError("the pipe closed inside a frame")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_into(fd: int, view: memoryview) -> None:
    view = view.cast("B")
    while view:
        count = os.readv(fd, [view])
        if count == 0:
            raise EOFError("the pipe closed inside an array")
        view = view[count:]


# -- values ------------------------------------------------------------------------------------


def decode(value, arrays: list, depth: int = 0):  # type: ignore[no-untyped-def]
    """The inverse of :meth:`~openhcs_plugins.execution.results.ResultEncoder.encode` (used
    on both sides); at most ``MAX_DEPTH`` levels of containers, as ``encode`` sends."""
    if depth > MAX_DEPTH:
        raise ValueError(f"value nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return [decode(v, arrays, depth + 1) for v in value]
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError("malformed value")
        ((tag, inner),) = value.items()
        if tag == "$array":
            if type(inner) is not int or not 0 <= inner < len(arrays):
                raise ValueError("bad array reference")
            return arrays[inner]
        if tag == "$tuple":
            return tuple(decode(v, arrays, depth + 1) for v in inner)
        if tag == "$dict":
            return {
                _key(decode(k, arrays, depth + 1)): decode(v, arrays, depth + 1) for k, v in inner
            }
        if tag == "$complex":
            return complex(inner[0], inner[1])
        raise ValueError(f"unknown tag {tag!r}")
    return value


def _key(key):  # type: ignore[no-untyped-def]
    if isinstance(key, list):
        raise ValueError("a list cannot be a dict key")
    try:
        hash(key)
    except TypeError:
        raise ValueError("unhashable dict key") from None
    return key
