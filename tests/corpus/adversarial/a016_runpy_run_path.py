# route: runpy
# expect: import-not-allowed
import runpy
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    runpy.run_path("/tmp/payload.py")
    return image
