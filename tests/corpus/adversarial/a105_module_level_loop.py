# route: restricted module-level statements
# expect: module-statement
from openhcs_plugins.memory import numpy
import numpy as np


for _ in range(10**9):
    pass


@numpy
def process(image):
    return image
