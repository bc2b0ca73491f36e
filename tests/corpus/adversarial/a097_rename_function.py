# route: a function whose __name__ is "../../x"
# expect: underscore-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return image


process.__name__ = "../../x"
