from typing import NamedTuple

from openhcs_plugins.memory import numpy
import numpy as np
from skimage import exposure


class Window(NamedTuple):
    low: float
    high: float


@numpy
def stretch_contrast(image, low: float = 2.0, high: float = 98.0):
    """Rescale intensities between two percentiles, per plane, with skimage.exposure."""
    window = Window(low, high)
    out = []
    for plane in image:
        p_low, p_high = np.percentile(plane, window)
        out.append(exposure.rescale_intensity(plane, in_range=(p_low, p_high), out_range=(0, 1)))
    return np.stack(out).astype(np.float32), {"window": window._asdict()}
