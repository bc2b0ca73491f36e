from collections import Counter, defaultdict

from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage as ndi


@numpy
def label_size_histogram(image, channel: int = 0, bin_width: int = 10):
    """Histogram of object sizes (in bins of bin_width pixels) as metadata."""
    labels, count = ndi.label(image[channel] > image[channel].mean())
    sizes = np.bincount(labels.ravel())[1:]
    histogram = Counter(int(size // bin_width) * bin_width for size in sizes)
    by_bin = defaultdict(int)
    for start, number in histogram.items():
        by_bin[f"{start}-{start + bin_width - 1}"] += number
    return image, {"objects": int(count), "size_histogram": dict(by_bin)}
