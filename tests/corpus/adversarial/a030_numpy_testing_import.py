# route: np.testing._private.utils (importlib, gc, runstring)
# expect: import-not-allowed
from numpy.testing._private import utils
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    utils.runstring("import os", {})
    return image
