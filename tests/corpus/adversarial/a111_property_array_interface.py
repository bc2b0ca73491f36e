# route: raw memory: a class defining __array_interface__ (class bodies)
# expect: class-hook
from openhcs_plugins.memory import numpy
import numpy as np


class Raw:
    @property
    def __array_interface__(self):
        return {"data": (4096, False), "shape": (8,), "typestr": "|u1", "version": 3}


@numpy
def process(image):
    return np.asarray(Raw())
