# route: rebinding np.linalg.norm
# expect: module-assignment
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    del np.linalg.norm
    return image
