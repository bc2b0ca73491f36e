"""Host buffers that jax and tensorflow can share: 64-byte aligned, C-contiguous.

Owns :data:`ALIGNMENT`, :func:`empty_aligned` and the one-pass copy conversion falls back to.
It imports numpy (it is only imported once data is converted) and nothing of this package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["ALIGNMENT", "empty_aligned", "fresh_copy", "is_shareable"]

#: Byte alignment jax and tensorflow need to share a CPU buffer (XLA's and Eigen's minimum).
ALIGNMENT = 64


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


def is_shareable(view: np.ndarray) -> bool:
    """True when jax and tensorflow can take ``view``'s buffer as it is."""
    return view.flags.c_contiguous and view.ctypes.data % ALIGNMENT == 0


def fresh_copy(view: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """One pass: copy (and cast) ``view`` into a new aligned, contiguous, writable buffer."""
    out = empty_aligned(view.shape, dtype)
    np.copyto(out, view, casting="unsafe")
    return out
