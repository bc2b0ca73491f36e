from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage as ndi

FOOTPRINT = np.ones((1, 15, 15), dtype=bool)
CROSS = ndi.generate_binary_structure(2, 1)


@numpy
def grey_opening_background(image):
    """Background estimate by grey opening with a fixed 15x15 footprint; returns the residual."""
    background = ndi.grey_opening(image, footprint=FOOTPRINT)
    return image - background


@numpy
def fill_holes(image, level: float = 0.5):
    """Binary mask with holes filled, per channel."""
    masks = image > level * image.max()
    return np.stack([ndi.binary_fill_holes(mask, structure=CROSS) for mask in masks])
