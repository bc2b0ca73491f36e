# route: np.f2py.sys
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    np.f2py.sys.modules["numpy"] = None
    return image
