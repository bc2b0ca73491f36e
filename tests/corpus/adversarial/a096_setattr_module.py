# route: setattr on shared modules
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    setattr(np, "mean", lambda *a, **k: 0)
    return image
