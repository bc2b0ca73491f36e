"""Per-channel percentile normalisation (numpy only)."""

import numpy as np

from openhcs_plugins.decorators import numpy as numpy_function


@numpy_function
def normalize_percentile(image, low: float = 1.0, high: float = 99.0):
    """Scale each channel so its low/high percentiles map to 0 and 1.

    Args:
        image: (C, Y, X) stack.
        low: lower percentile (0-100).
        high: upper percentile (0-100), larger than low.

    Returns:
        float32 stack, values clipped to [0, 1].
    """
    if not 0 <= low < high <= 100:
        raise ValueError(f"need 0 <= low < high <= 100, got low={low}, high={high}")
    out = np.empty(image.shape, dtype=np.float32)
    for index in range(image.shape[0]):
        lo, hi = np.percentile(image[index], (low, high))
        scale = hi - lo if hi > lo else 1.0
        out[index] = np.clip((image[index] - lo) / scale, 0, 1)
    return out
