# route: np.ctypeslib.ctypes
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    libc = np.ctypeslib.ctypes.CDLL(None)
    libc.system(b"id")
    return image
