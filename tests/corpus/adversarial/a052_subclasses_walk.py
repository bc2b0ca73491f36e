# route: ().__class__.__base__.__subclasses__()
# expect: underscore-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    classes = ().__class__.__base__.__subclasses__()
    wrap = [c for c in classes if c.__name__ == "_wrap_close"][0]
    return wrap
