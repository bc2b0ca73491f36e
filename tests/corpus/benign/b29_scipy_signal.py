from openhcs_plugins.memory import numpy
import numpy as np
from scipy import signal


@numpy
def wiener_denoise(image, size: int = 5):
    """Adaptive Wiener filter per channel (scipy.signal.wiener)."""
    planes = [signal.wiener(plane.astype(np.float64), mysize=size) for plane in image]
    return np.stack(planes).astype(np.float32)
