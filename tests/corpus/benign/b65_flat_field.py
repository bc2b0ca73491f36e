from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage


@numpy
def flat_field_correct(image, sigma: float = 20.0):
    """Divide each plane by its heavily smoothed self (an estimated illumination field)."""
    out = np.empty(image.shape, dtype=np.float32)
    for index, plane in enumerate(image.astype(np.float32)):
        field_estimate = ndimage.gaussian_filter(plane, sigma)
        out[index] = plane / np.maximum(field_estimate, 1e-6) * field_estimate.mean()
    return out
