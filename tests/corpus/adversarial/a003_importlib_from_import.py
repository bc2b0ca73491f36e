# route: importlib
# expect: import-not-allowed
from importlib import import_module
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import_module("os").remove("/tmp/x")
    return image
