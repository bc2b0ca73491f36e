from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage as ndi


@numpy
def flatfield(image, sigma: float = 30.0):
    """Divide by a blurred copy, then return the input dtype (integer ranges respected)."""
    data = image.astype(np.float32)
    flat = np.empty_like(data)
    for index, plane in enumerate(data):
        illumination = np.maximum(ndi.gaussian_filter(plane, sigma), 1e-6)
        flat[index] = plane / illumination * illumination.mean()
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return np.clip(np.rint(flat), info.min, info.max).astype(image.dtype)
    return flat.astype(image.dtype)
