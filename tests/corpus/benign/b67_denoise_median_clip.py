from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage


@numpy(contract="PURE_2D")
def denoise_plane(image, size: int = 3, clip_sigma: float = 4.0):
    """Median filter, then clip hot pixels above mean + clip_sigma * std (one plane)."""
    smoothed = ndimage.median_filter(image, size=size)
    limit = smoothed.mean() + clip_sigma * smoothed.std()
    return np.minimum(smoothed, limit)
