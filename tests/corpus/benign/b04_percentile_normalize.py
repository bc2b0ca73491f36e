from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def percentile_normalize(image, low: float = 1.0, high: float = 99.0, target_max: float = 1.0):
    """Stretch each channel so its low/high percentiles map to 0 and target_max."""
    image = image.astype(np.float32)
    lo = np.percentile(image, low, axis=(1, 2), keepdims=True)
    hi = np.percentile(image, high, axis=(1, 2), keepdims=True)
    scaled = (image - lo) / np.maximum(hi - lo, 1e-6)
    return np.clip(scaled, 0.0, 1.0) * target_max
