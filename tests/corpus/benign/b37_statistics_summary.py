import statistics

from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def channel_summary(image):
    """Median and spread of the per-channel means (for QC), image unchanged."""
    means = [float(np.mean(plane)) for plane in image]
    summary = {
        "channel_means": means,
        "median_of_means": statistics.median(means),
        "spread": statistics.pstdev(means) if len(means) > 1 else 0.0,
    }
    return image, summary
