# route: rebinding np.linalg.norm
# expect: module-assignment
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    xp = np
    xp.linalg.norm = lambda *args, **kwargs: 0.0
    return image
