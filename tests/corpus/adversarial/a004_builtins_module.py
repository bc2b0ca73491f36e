# route: builtins
# expect: import-not-allowed, denied-attribute
import builtins
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    builtins.exec("import os")
    return image
