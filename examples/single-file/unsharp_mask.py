"""Unsharp mask: sharpen each channel by adding back its difference from a blur.

A single-file function for the openhcs-plugins functions folder. Add it with
``openhcs-plugins add unsharp_mask.py``; it is then ``openhcs:unsharp_mask``.
"""

import numpy as np
from scipy import ndimage

from openhcs_plugins.decorators import numpy as numpy_function


@numpy_function
def unsharp_mask(image, sigma: float = 2.0, amount: float = 1.0, clip: bool = True):
    """Sharpen each channel: ``image + amount * (image - gaussian_blur(image, sigma))``.

    Args:
        image: (C, Y, X) stack.
        sigma: Standard deviation of the blur in pixels (> 0): the size of the details that
            are enhanced.
        amount: Strength; 0 returns the image unchanged, 1 doubles the fine detail.
        clip: Keep the result within the input's minimum and maximum (no dark halos below
            zero on a uint image).

    Returns:
        float32 stack of the same shape.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0 pixels, got {sigma}")
    stack = np.asarray(image, dtype=np.float32)
    blurred = ndimage.gaussian_filter(stack, sigma=(0.0, sigma, sigma), mode="reflect")
    sharpened = stack + amount * (stack - blurred)
    if clip:
        sharpened = np.clip(sharpened, stack.min(), stack.max())
    return sharpened.astype(np.float32)
