# route: np.memmap (file I/O without open)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    mapped = np.memmap("/tmp/out.raw", dtype=np.uint8, mode="w+", shape=(10,))
    mapped[:] = 1
    return image
