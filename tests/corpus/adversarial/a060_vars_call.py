# route: vars()
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    namespace = vars(np)
    namespace["mean"] = lambda *a, **k: 0
    return image
