"""Per-object measurements returned as metadata."""

from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage as ndi


@numpy
def measure_regions(image, channel: int = 0, min_area: int = 5):
    """Threshold at the mean, label, and measure area and mean intensity per object."""
    plane = image[channel].astype(np.float64)
    labels, count = ndi.label(plane > plane.mean())
    index = np.arange(1, count + 1)
    areas = ndi.sum(np.ones_like(plane), labels, index)
    means = ndi.mean(plane, labels, index)
    keep = areas >= min_area
    metadata = {
        "count": int(keep.sum()),
        "areas": [float(a) for a in areas[keep]],
        "mean_intensity": [float(m) for m in means[keep]],
    }
    return image, metadata
