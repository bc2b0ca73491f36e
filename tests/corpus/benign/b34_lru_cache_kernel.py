import functools

from openhcs_plugins.memory import numpy
import numpy as np
from scipy.ndimage import convolve


@functools.lru_cache(maxsize=32)
def _disk_kernel(radius):
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    kernel = (x**2 + y**2 <= radius**2).astype(np.float32)
    return kernel / kernel.sum()


@numpy
def disk_mean(image, radius: int = 3):
    """Mean over a disk-shaped neighbourhood (kernel cached across calls)."""
    kernel = _disk_kernel(int(radius))
    return np.stack([convolve(plane.astype(np.float32), kernel) for plane in image])
