"""Gaussian blur by separable convolution (numpy only)."""

import numpy as np

from openhcs_plugins.decorators import numpy as numpy_function


def _kernel(sigma):
    radius = max(1, int(3 * sigma + 0.5))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-(x * x) / (2 * sigma * sigma))
    return k / k.sum(), radius


def _convolve_rows(plane, kernel, radius):
    padded = np.pad(plane, ((0, 0), (radius, radius)), mode="reflect")
    out = np.zeros(plane.shape, dtype=np.float64)
    for offset, weight in enumerate(kernel):
        out += weight * padded[:, offset : offset + plane.shape[1]]
    return out


@numpy_function
def gaussian_blur(image, sigma: float = 1.5):
    """Blur each channel with a Gaussian of standard deviation sigma (pixels).

    Args:
        image: (C, Y, X) stack.
        sigma: standard deviation in pixels, > 0.

    Returns:
        Blurred float32 stack of the same shape.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    kernel, radius = _kernel(sigma)
    out = np.empty(image.shape, dtype=np.float32)
    for index in range(image.shape[0]):
        rows = _convolve_rows(image[index].astype(np.float64), kernel, radius)
        out[index] = _convolve_rows(rows.T, kernel, radius).T
    return out
