from openhcs_plugins import numpy
import numpy as np


@numpy
def add_constant(image, value: float = 10.0):
    """Add a constant, saturating at the dtype's range for integers."""
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return np.clip(image.astype(np.int64) + int(value), info.min, info.max).astype(image.dtype)
    return image + value
