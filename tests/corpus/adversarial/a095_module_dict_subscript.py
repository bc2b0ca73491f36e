# route: rebinding np.linalg.norm
# expect: module-assignment
import openhcs_plugins.memory as memory
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    memory.CONTRACTS[0] = "x"
    return image
