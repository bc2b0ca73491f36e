# route: globals()
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    globals()["np"] = None
    return image
