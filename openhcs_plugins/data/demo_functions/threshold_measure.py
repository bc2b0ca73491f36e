"""Global threshold with measurements returned as metadata (numpy only)."""

import numpy as np

from openhcs_plugins.decorators import numpy as numpy_function


def _otsu(values):
    """Otsu's threshold of a 1D array."""
    hist, edges = np.histogram(values, bins=256)
    centers = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(hist)
    weight_high = weight_low[-1] - weight_low
    mean_low = np.cumsum(hist * centers) / np.maximum(weight_low, 1)
    total = (hist * centers).sum()
    mean_high = (total - np.cumsum(hist * centers)) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(centers[int(np.argmax(between))])


@numpy_function
def threshold_measure(image, threshold: float = -1.0):
    """Binary mask per channel, and measurements of the foreground.

    Args:
        image: (C, Y, X) stack.
        threshold: intensity threshold; negative means Otsu's threshold per channel.

    Returns:
        (mask, metadata): uint8 mask stack (0/1) and a dict with, per channel, the threshold,
        the foreground fraction and the mean foreground intensity.
    """
    mask = np.zeros(image.shape, dtype=np.uint8)
    channels = []
    for index in range(image.shape[0]):
        plane = image[index]
        level = _otsu(plane.ravel()) if threshold < 0 else float(threshold)
        foreground = plane > level
        mask[index] = foreground
        channels.append(
            {
                "threshold": level,
                "foreground_fraction": float(foreground.mean()),
                "mean_foreground": float(plane[foreground].mean()) if foreground.any() else 0.0,
            }
        )
    return mask, {"channels": channels}
