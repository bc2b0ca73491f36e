from openhcs_plugins.memory import numpy
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@numpy
def local_variance(image, window: int = 5):
    """Variance in a window x window neighbourhood (edges padded by reflection)."""
    pad = window // 2
    padded = np.pad(image.astype(np.float32), ((0, 0), (pad, pad), (pad, pad)), mode="reflect")
    windows = sliding_window_view(padded, (window, window), axis=(1, 2))
    return windows.var(axis=(-2, -1))
