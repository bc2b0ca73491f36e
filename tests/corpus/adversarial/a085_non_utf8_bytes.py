# route: validate exactly the text you execute (bytes must be UTF-8)
# expect: encoding
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return image  # café
