from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage


@numpy
def count_objects(image, threshold: float = 0.5, channel: int = 0):
    """Label connected bright objects in one channel and report how many there are.

    Returns:
        (labels, {"count": n}) with labels shaped (1, Y, X).
    """
    mask = image[channel] > threshold * image[channel].max()
    labels, count = ndimage.label(mask)
    return labels[np.newaxis].astype(np.int32), {"count": int(count)}
