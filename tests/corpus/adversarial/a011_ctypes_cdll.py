# route: ctypes
# expect: import-not-allowed
import ctypes
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    ctypes.CDLL(None).system(b"id")
    return image
