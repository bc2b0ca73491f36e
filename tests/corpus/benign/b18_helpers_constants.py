"""Unsharp masking with module-level constants and helpers."""

from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage as ndi

DEFAULT_RADIUS = 2.0
DEFAULT_AMOUNT = 0.8
EPS = np.finfo(np.float32).eps


def _blur(plane, radius):
    return ndi.gaussian_filter(plane, radius)


def _rescale(plane, reference):
    span = max(float(reference.max() - reference.min()), EPS)
    return (plane - plane.min()) / span * (reference.max() - reference.min()) + reference.min()


@numpy
def unsharp_mask(image, radius: float = DEFAULT_RADIUS, amount: float = DEFAULT_AMOUNT):
    """Sharpen: image + amount * (image - blurred)."""
    data = image.astype(np.float32)
    out = np.empty_like(data)
    for index, plane in enumerate(data):
        sharpened = plane + amount * (plane - _blur(plane, radius))
        out[index] = _rescale(sharpened, plane)
    return out
