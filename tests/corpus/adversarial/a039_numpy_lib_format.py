# route: np.memmap (file I/O without open)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    np.lib.format.open_memmap("/tmp/x.npy", mode="w+", dtype=np.uint8, shape=(4,))
    return image
