# route: "{0.__globals__}".format(f)
# expect: format-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return image, {"leak": str.format("{0.__class__.__mro__}", image)}
