# route: raw memory: a type()-built class with __array_interface__ (dunder walks)
# expect: dunder-name
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    namespace = dict(__array_interface__={"data": (4096, False), "shape": (8,), "typestr": "|u1"})
    return image, namespace
