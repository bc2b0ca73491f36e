"""Optional scipy: fall back to a numpy box filter when scipy is missing."""

from openhcs_plugins.memory import numpy
import numpy as np

try:
    from scipy.ndimage import uniform_filter
except ImportError:
    uniform_filter = None

__all__ = ["box_filter"]
__version__ = "1.2.0"


@numpy
def box_filter(image, size: int = 3):
    """Mean in a size x size box per channel."""
    if uniform_filter is not None:
        return uniform_filter(image.astype(np.float32), size=(1, size, size))
    kernel = np.ones(size) / size
    out = image.astype(np.float32)
    for axis in (1, 2):
        out = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), axis, out)
    return out
