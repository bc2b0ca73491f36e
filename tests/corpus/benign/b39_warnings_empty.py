import warnings

from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def safe_divide_channels(image, numerator: int = 0, denominator: int = 1):
    """Ratio of two channels; warns when the denominator is empty."""
    top = image[numerator].astype(np.float32)
    bottom = image[denominator].astype(np.float32)
    if not np.any(bottom):
        warnings.warn("denominator channel is all zero; returning zeros", RuntimeWarning)
        return np.zeros_like(top)[np.newaxis]
    ratio = np.divide(top, bottom, out=np.zeros_like(top), where=bottom != 0)
    return ratio[np.newaxis]
