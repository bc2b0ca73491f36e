# route: inspect
# expect: import-not-allowed, denied-attribute
import inspect
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    frame = inspect.currentframe()
    frame.f_back.f_globals["np"] = None
    return image
