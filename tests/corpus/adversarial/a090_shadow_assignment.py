# route: a local def numpy(f) shadows the decorator
# expect: decorator
from openhcs_plugins.memory import numpy
import numpy as np


numpy = lambda f: f


@numpy
def process(image):
    return image
