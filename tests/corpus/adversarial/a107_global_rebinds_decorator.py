# route: a local def numpy(f) shadows the decorator
# expect: decorator
from openhcs_plugins.memory import numpy
import numpy as np


def swap():
    global numpy
    numpy = None


@numpy
def process(image):
    return image
