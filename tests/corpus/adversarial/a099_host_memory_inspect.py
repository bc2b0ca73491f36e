# route: setattr on shared modules (host modules re-export inspect)
# expect: denied-attribute
from openhcs_plugins.memory import inspect
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return inspect.currentframe()
