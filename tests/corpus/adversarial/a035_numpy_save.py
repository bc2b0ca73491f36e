# route: np.save (file I/O without open)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    np.save("/tmp/copy.npy", image)
    return image
