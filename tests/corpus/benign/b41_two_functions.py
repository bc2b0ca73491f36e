"""Two functions in one file share a helper."""

from openhcs_plugins.memory import numpy
import numpy as np


def _to_float(image):
    return image.astype(np.float32)


@numpy
def brighten(image, factor: float = 1.2):
    """Multiply intensities by factor."""
    return _to_float(image) * factor


@numpy
def darken(image, factor: float = 0.8):
    """Multiply intensities by factor (below 1)."""
    return _to_float(image) * factor
