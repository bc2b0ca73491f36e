# route: ndarray.tofile (file I/O without open)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    image.tofile("/tmp/exfiltrated.raw")
    return image
