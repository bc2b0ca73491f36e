# route: np.testing._private.utils (importlib, gc, runstring)
# expect: denied-attribute, underscore-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    np.testing._private.utils.runstring("import os", {})
    return image
