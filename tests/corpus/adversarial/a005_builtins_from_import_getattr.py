# route: builtins
# expect: import-not-allowed
from builtins import getattr as ga
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return ga(image, "shape")
