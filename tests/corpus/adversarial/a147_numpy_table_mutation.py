# route: a container method on a numpy module table (np.typecodes) changes it for the host
# expect: module-assignment
import numpy as np

from openhcs_plugins.memory import numpy


@numpy
def attack(image):
    np.typecodes.update({"AllFloat": ""})
    return image
