from typing import NamedTuple

from openhcs_plugins.memory import numpy
import numpy as np


class Bounds(NamedTuple):
    top: int
    left: int
    bottom: int
    right: int


def _foreground_bounds(plane, level):
    rows = np.flatnonzero(plane.max(axis=1) > level)
    cols = np.flatnonzero(plane.max(axis=0) > level)
    if rows.size == 0 or cols.size == 0:
        return Bounds(0, 0, plane.shape[0], plane.shape[1])
    return Bounds(int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)


@numpy(contract="PURE_3D")
def crop_to_content(image, level: float = 0.1):
    """Crop Y and X to the bounding box of pixels above level * max (all channels)."""
    merged = image.max(axis=0)
    bounds = _foreground_bounds(merged, level * merged.max())
    cropped = image[:, bounds.top : bounds.bottom, bounds.left : bounds.right]
    return cropped, {"bounds": list(bounds)}
