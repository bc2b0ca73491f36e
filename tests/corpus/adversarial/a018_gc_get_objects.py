# route: gc
# expect: import-not-allowed
import gc
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    modules = [o for o in gc.get_objects() if type(o).__name__ == "module"]
    return image, {"modules": len(modules)}
