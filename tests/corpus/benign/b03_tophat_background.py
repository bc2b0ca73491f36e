"""Rolling-ball-like background subtraction with a white top-hat."""

from openhcs_plugins.memory import numpy
import numpy as np
from scipy.ndimage import white_tophat


@numpy
def subtract_background(image, radius: int = 25):
    """White top-hat with a square footprint of side 2 * radius + 1, per channel."""
    size = 2 * radius + 1
    result = np.stack([white_tophat(plane, size=size) for plane in image])
    return result.astype(image.dtype, copy=False)
