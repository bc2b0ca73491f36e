"""Gaussian blur of each channel with scipy.ndimage."""

from openhcs_plugins.memory import numpy
from scipy import ndimage as ndi


@numpy
def gaussian_blur(image, sigma: float = 1.5, mode: str = "reflect"):
    """Blur every channel in Y and X, never across channels.

    Args:
        image: 3D array (C, Y, X).
        sigma: standard deviation in pixels.
        mode: border handling, passed to scipy.ndimage.gaussian_filter.
    """
    return ndi.gaussian_filter(image, sigma=(0, sigma, sigma), mode=mode)
