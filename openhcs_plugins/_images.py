"""Reading and writing image stacks for ``openhcs-plugins run`` and ``demo``.

Stacks are ``(C, Y, X)``. A 2D TIFF is promoted to ``(1, Y, X)``; an RGB TIFF's samples become
the channels; a TIFF with more than three
dimensions is refused (run the function per stack instead). Outputs are TIFFs whose
ImageDescription holds JSON provenance: function key, distribution and version, parameters and
the sha256 of each input file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import tifffile

__all__ = [
    "read_provenance",
    "read_stack",
    "sha256_file",
    "synthetic_cells",
    "write_preview",
    "write_stack",
]

PROVENANCE_KEY = "openhcs_plugins"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_stack(path: Path, handle: BinaryIO | None = None) -> np.ndarray:
    """A ``(C, Y, X)`` stack from a TIFF file (2D images become ``(1, Y, X)``).

    ``handle``: the file already open (a batch opens each input once, to hash and to decode
    it); ``path`` then only names it in errors."""
    try:
        with tifffile.TiffFile(handle if handle is not None else path) as tif:
            series = tif.series[0]
            stack = series.asarray()
            axes = series.axes
    except Exception as exc:  # tifffile raises several types for bad files
        raise ValueError(f"{path}: cannot read as TIFF ({type(exc).__name__}: {exc})") from exc
    if stack.ndim == 3 and axes.endswith("S"):
        # RGB(A) samples are the last axis in the file; they are channels here.
        stack = np.moveaxis(stack, -1, 0)
    if stack.ndim == 2:
        stack = stack[np.newaxis]
    if stack.ndim != 3:
        raise ValueError(
            f"{path}: image has shape {stack.shape}; a (C, Y, X) stack or a 2D image is expected"
        )
    return stack


def write_stack(path: Path, data: Any, provenance: dict[str, Any]) -> None:
    """Write a stack as TIFF with ``provenance`` as JSON in its ImageDescription.

    The file appears complete or not at all (a temporary name, renamed when written:
    :func:`~openhcs_plugins._storage.atomic_write`); it is not fsynced (a batch writes many:
    the operating system flushes them)."""
    from openhcs_plugins._storage import atomic_write

    array = np.asarray(data)
    description = json.dumps({PROVENANCE_KEY: provenance}, sort_keys=True, default=str)
    atomic_write(
        path,
        lambda handle: tifffile.imwrite(
            handle, array, description=description, metadata=None, photometric="minisblack"
        ),
        sync=False,
        shared=True,
    )


def read_provenance(path: Path) -> dict[str, Any]:
    """The provenance :func:`write_stack` recorded."""
    with tifffile.TiffFile(path) as tif:
        description = tif.pages[0].description
    return json.loads(description)[PROVENANCE_KEY]


def _to_uint8(plane: np.ndarray) -> np.ndarray:
    plane = np.asarray(plane, dtype=np.float64)
    low, high = np.percentile(plane, (0.5, 99.5)) if plane.size else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    return (np.clip((plane - low) / (high - low), 0, 1) * 255).astype(np.uint8)


def write_preview(path: Path, before: np.ndarray, after: np.ndarray) -> None:
    """A PNG with the middle slice before (left) and after (right), each contrast-stretched.

    ``after`` may be one plane (a ``VOLUMETRIC_TO_SLICE`` function's result)."""
    from PIL import Image

    result = np.asarray(after)
    if result.ndim == 2:
        result = result[np.newaxis]
    left = _to_uint8(before[before.shape[0] // 2])
    right = _to_uint8(result[result.shape[0] // 2])
    height = max(left.shape[0], right.shape[0])
    gap = 8
    canvas = np.full((height, left.shape[1] + gap + right.shape[1]), 255, dtype=np.uint8)
    canvas[: left.shape[0], : left.shape[1]] = left
    canvas[: right.shape[0], left.shape[1] + gap :] = right
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(canvas, mode="L").save(path)


def synthetic_cells(
    shape: tuple[int, int, int] = (2, 256, 256), n_cells: int = 40, seed: int = 0
) -> np.ndarray:
    """A reproducible fluorescence-like stack: blurred nuclei on an uneven background + noise."""
    rng = np.random.default_rng(seed)
    channels, height, width = shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    background = 40.0 + 30.0 * (xx / width) + 20.0 * (yy / height)
    stack = np.empty(shape, dtype=np.float32)
    centers = rng.uniform([10, 10], [height - 10, width - 10], size=(n_cells, 2))
    radii = rng.uniform(4, 9, size=n_cells)
    for c in range(channels):
        image = background.copy()
        brightness = rng.uniform(80, 200, size=n_cells) / (c + 1)
        for (cy, cx), r, b in zip(centers, radii, brightness, strict=True):
            image += b * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        image += rng.normal(0, 5, size=(height, width))
        stack[c] = image
    return stack
