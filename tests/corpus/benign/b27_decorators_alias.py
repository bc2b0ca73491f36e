from openhcs_plugins.decorators import numpy as np_dec
import numpy as np


@np_dec
def channel_difference(image, first: int = 0, second: int = 1):
    """Difference of two channels as a (1, Y, X) image."""
    difference = image[first].astype(np.float32) - image[second].astype(np.float32)
    return difference[np.newaxis]
