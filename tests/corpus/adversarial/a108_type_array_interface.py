# route: raw memory: a type()-built class with __array_interface__ (dunder walks)
# expect: denied-builtin, dunder-name
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    spec = {"__array_interface__": {"data": (4096, False), "shape": (8,), "typestr": "|u1", "version": 3}}
    raw = np.asarray(type("Raw", (), spec)())
    return image, {"peek": raw.tolist()}
