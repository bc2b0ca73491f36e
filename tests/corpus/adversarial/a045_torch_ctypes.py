# route: torch re-exports ctypes
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import torch as th
    th.ctypes.CDLL(None)
    return image
