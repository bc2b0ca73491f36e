from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage


@numpy
def detect_spots(image, sigma: float = 1.5, threshold: float = 0.1):
    """Spots as local maxima of the negative Laplacian of Gaussian; a marker image and counts."""
    markers = np.zeros_like(image, dtype=np.float32)
    counts = []
    for index, plane in enumerate(image.astype(np.float32)):
        response = -ndimage.gaussian_laplace(plane, sigma) * sigma**2
        peaks = (response == ndimage.maximum_filter(response, size=5)) & (response > threshold)
        markers[index][peaks] = 1.0
        counts.append(int(peaks.sum()))
    return markers, {"spot_counts": counts}
