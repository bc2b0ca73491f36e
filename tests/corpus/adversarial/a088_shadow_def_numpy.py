# route: a local def numpy(f) shadows the decorator
# expect: decorator
from openhcs_plugins.memory import numpy
import numpy as np


def numpy(f):
    __import__("os").system("id")
    return f


@numpy
def process(image):
    return image
