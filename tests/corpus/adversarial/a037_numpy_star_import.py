# route: from numpy import *
# expect: import-not-allowed
from numpy import *
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return image
