"""Clip to an intensity window and rescale it to a new range.

A single-file function for the openhcs-plugins functions folder. Add it with
``openhcs-plugins add clip_rescale.py``; it is then ``openhcs:clip_rescale``.
"""

import numpy as np

from openhcs_plugins.decorators import numpy as numpy_function


@numpy_function
def clip_rescale(
    image, lower: float = 0.0, upper: float = 65535.0, out_min: float = 0.0, out_max: float = 1.0
):
    """Clip every pixel to [lower, upper], then map that window linearly to [out_min, out_max].

    The same window for every channel (unlike a percentile normalisation), so intensities stay
    comparable between channels and images: the usual last step before export or display.

    Args:
        image: (C, Y, X) stack.
        lower: Intensity mapped to ``out_min``; darker pixels are clipped to it.
        upper: Intensity mapped to ``out_max`` (above ``lower``); brighter pixels are clipped.
        out_min: Lowest output value.
        out_max: Highest output value.

    Returns:
        float32 stack of the same shape, within [out_min, out_max].
    """
    if upper <= lower:
        raise ValueError(f"upper ({upper}) must be above lower ({lower})")
    stack = np.clip(np.asarray(image, dtype=np.float32), lower, upper)
    scale = (out_max - out_min) / (upper - lower)
    return ((stack - lower) * scale + out_min).astype(np.float32)
