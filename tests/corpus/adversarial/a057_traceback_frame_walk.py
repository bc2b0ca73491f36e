# route: tracebacks/generators tb_frame.f_back
# expect: underscore-attribute, denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    try:
        raise ValueError("x")
    except ValueError as error:
        frame = error.__traceback__.tb_frame.f_back
    return frame.f_globals
