# route: image.ctypes._ctypes is the ctypes module
# expect: denied-attribute, underscore-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    ctypes_module = image.ctypes._ctypes
    ctypes_module.CDLL(None).system(b"id")
    return image
