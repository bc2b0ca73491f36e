# route: rebinding np.linalg.norm
# expect: module-assignment
from scipy import ndimage
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    ndimage.gaussian_filter = lambda image, *args, **kwargs: image
    return image
