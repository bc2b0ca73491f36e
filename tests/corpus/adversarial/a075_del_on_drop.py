# route: __del__ runs when the namespace is dropped
# expect: class-hook
from openhcs_plugins.memory import numpy
import numpy as np


class Dropper:
    def __del__(self):
        np.mean = None


KEEP = Dropper()


@numpy
def process(image):
    return image
