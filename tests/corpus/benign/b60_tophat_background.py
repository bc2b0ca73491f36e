from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage
from skimage.morphology import disk


@numpy
def subtract_background(image, radius: int = 15):
    """White top-hat with a disk: removes background larger than the radius, per plane."""
    footprint = disk(radius)
    return np.stack(
        [ndimage.white_tophat(plane, footprint=footprint) for plane in image]
    ).astype(image.dtype)
