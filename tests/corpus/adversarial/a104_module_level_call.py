# route: restricted module-level statements
# expect: module-statement
from openhcs_plugins.memory import numpy
import numpy as np


np.random.seed(0)
print("loading")


@numpy
def process(image):
    return image
