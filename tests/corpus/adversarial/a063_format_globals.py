# route: "{0.__globals__}".format(f)
# expect: format-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    text = "{0.__globals__}".format(process)
    return image, {"leak": text}
