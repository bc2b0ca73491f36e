from openhcs_plugins.memory import numpy
import numpy as np
import scipy.ndimage


@numpy
def median_denoise(image, size: int = 3):
    """Median filter per plane (salt-and-pepper noise)."""
    out = np.empty_like(image)
    for index in range(image.shape[0]):
        out[index] = scipy.ndimage.median_filter(image[index], size=size)
    return out
