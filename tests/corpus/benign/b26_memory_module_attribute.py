import openhcs_plugins.memory as memory
import numpy as np


@memory.numpy
def binarize(image, level: float = 0.5):
    """Binary image at a fraction of each channel's maximum."""
    top = image.max(axis=(1, 2), keepdims=True)
    return (image > level * top).astype(np.uint8)
