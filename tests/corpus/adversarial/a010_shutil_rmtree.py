# route: shutil
# expect: import-not-allowed
import shutil
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    shutil.rmtree("/tmp/data", ignore_errors=True)
    return image
