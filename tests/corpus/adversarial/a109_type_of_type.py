# route: raw memory: a type()-built class with __array_interface__ (dunder walks)
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    maker = type(type)
    return image, {"cls": type(type)("Raw", (object,), dict(shape=(1,)))}
