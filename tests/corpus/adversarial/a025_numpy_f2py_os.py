# route: np.f2py.os
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    np.f2py.os.system("id")
    return image
