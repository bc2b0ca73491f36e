"""Background subtraction with a large box mean (numpy only)."""

import numpy as np

from openhcs_plugins.decorators import numpy as numpy_function


def _box_mean(plane, radius):
    """Mean over a (2r+1)^2 window, edges replicated, via an integral image."""
    padded = np.pad(plane, radius + 1, mode="edge").astype(np.float64)
    integral = padded.cumsum(axis=0).cumsum(axis=1)
    size = 2 * radius + 1
    total = (
        integral[size:, size:]
        - integral[:-size, size:]
        - integral[size:, :-size]
        + integral[:-size, :-size]
    )
    height, width = plane.shape
    return total[:height, :width] / (size * size)


@numpy_function
def subtract_background(image, radius: int = 25, clip: bool = True):
    """Subtract a smooth background estimated as a local mean.

    Args:
        image: (C, Y, X) stack.
        radius: half-size of the averaging window in pixels; larger than the objects.
        clip: set negative values to zero.

    Returns:
        The stack with the background removed, same shape, float32.
    """
    out = np.empty(image.shape, dtype=np.float32)
    for index in range(image.shape[0]):
        out[index] = image[index] - _box_mean(image[index], radius)
    if clip:
        np.maximum(out, 0, out=out)
    return out
