# route: numpy's test() runner runs pytest in the host
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def attack(image):
    np.test(label='fast')
    return image
